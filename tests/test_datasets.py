import functools
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from sksoft.annotations import agreement_summary, majority_vote
from sksoft.datasets import (
    fetch_cifar10h,
    image_features,
    load_chaosnli,
    load_cifar10h,
    make_ambiguous_digits,
    read_cifar10_binary,
)
from sksoft.datasets import _cifar10h
from sksoft.metrics import difficulty_scores


def test_ambiguous_digits_properties():
    d = make_ambiguous_digits(random_state=0)
    n = d.X.shape[0]
    assert d.X.shape == (n, 64) and d.images.shape == (n, 8, 8)
    np.testing.assert_allclose(d.soft_labels.sum(1), 1)
    np.testing.assert_array_equal(d.counts.sum(1), 50)
    assert d.annotations.shape == (n, 50)
    assert "simulated" in d.DESCR
    # ambiguity drives disagreement
    h = difficulty_scores(d.soft_labels)
    amb = d.ambiguity > 0.3
    assert h[amb].mean() > 3 * h[d.ambiguity == 0].mean()
    # gold errors concentrate on ambiguous items and humans mostly correct them
    assert d.is_mislabeled.mean() == pytest.approx(0.04, abs=0.002)
    assert d.ambiguity[d.is_mislabeled].mean() > 2 * d.ambiguity.mean()
    mv = majority_vote(d.counts)
    assert np.mean(mv[d.is_mislabeled] == d.y_clean[d.is_mislabeled]) > 0.8
    assert np.all(d.y_gold[d.is_mislabeled] != d.y_clean[d.is_mislabeled])
    # reproducible, and knobs work
    again = make_ambiguous_digits(random_state=0)
    np.testing.assert_array_equal(again.counts, d.counts)
    sparse = make_ambiguous_digits(annotators_per_item=5, mislabel_fraction=0.0, random_state=1)
    np.testing.assert_array_equal(sparse.counts.sum(1), 5)
    assert not sparse.is_mislabeled.any()


def test_image_features_shapes():
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    F = image_features(imgs)
    assert F.shape == (5, 3 * 16 + 3 * 8 + 4 * 8) and np.all(np.isfinite(F))
    np.testing.assert_allclose(F, image_features(imgs.transpose(0, 3, 1, 2)))


@pytest.mark.realdata
def test_load_cifar10h_reproduces_published_facts(shared_data):
    d = load_cifar10h(shared_data / "cifar10h_aligned.npz")
    assert d.images.shape == (10000, 32, 32, 3) and d.counts.shape == (10000, 10)
    s = agreement_summary(d.counts)
    assert s["mean_annotations"] == pytest.approx(51.1, abs=0.05)
    assert d.counts.sum(1).min() == 47 and d.counts.sum(1).max() == 63
    assert s["fraction_unanimous"] == pytest.approx(0.439, abs=0.0005)
    h = difficulty_scores(d.soft_labels)
    assert np.median(h) == pytest.approx(0.095, abs=0.0005)
    assert np.quantile(h, 0.9) == pytest.approx(0.464, abs=0.0005)
    assert h.max() == pytest.approx(1.98, abs=0.005)
    assert np.mean(majority_vote(d.counts) != d.y_gold) == pytest.approx(0.0079)
    assert list(d.class_names[:2]) == ["airplane", "automobile"]


@pytest.mark.realdata
def test_load_chaosnli(shared_data):
    d = load_chaosnli(shared_data / "chaosnli.csv")
    assert d.counts.shape == (3113, 3)
    np.testing.assert_array_equal(d.counts.sum(1), 100)
    assert set(np.unique(d.y_gold)) == {0, 1, 2}
    a = load_chaosnli(shared_data / "chaosnli.csv", subset="alphanli")
    assert a.counts.shape == (1532, 2) and len(a.text[0]) == 4
    with pytest.raises(ValueError, match="subset"):
        load_chaosnli(shared_data / "chaosnli.csv", subset="xnli")


# --------------------------------------------------------------------------- downloader
def _official_like_files(tmp_path, n=50):
    """Files in the official layouts, built from synthetic data (no network, no shared/)."""
    rng = np.random.default_rng(0)
    counts = rng.multinomial(51, np.ones(10) / 10, size=n)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    counts_file = tmp_path / "src" / "cifar10h-counts.npy"
    counts_file.parent.mkdir()
    np.save(counts_file, counts.astype(np.float64))
    records = np.concatenate([labels[:, None], images.transpose(0, 3, 1, 2).reshape(n, -1)], axis=1)
    raw = records.astype(np.uint8).tobytes()
    tar_file = tmp_path / "src" / "cifar-10-binary.tar.gz"
    with tarfile.open(tar_file, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return counts_file, tar_file, counts, images, labels


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate = set()

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        name = self.path.strip("/")
        if name in self.truncate:
            data = (self.server.root / name).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])  # then hang up: an interrupted download
            return
        return super().do_GET()


@pytest.fixture
def local_server(tmp_path):
    counts_file, tar_file, counts, images, labels = _official_like_files(tmp_path)
    handler = functools.partial(_Handler, directory=str(counts_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.root = counts_file.parent
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    registry = {
        p.name: {"url": f"{base}/{p.name}", "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in (counts_file, tar_file)
    }
    yield registry, counts, images, labels
    _Handler.truncate = set()
    server.shutdown()
    server.server_close()


def test_fetch_downloads_verifies_and_caches(local_server, tmp_path, monkeypatch):
    registry, counts, images, labels = local_server
    monkeypatch.setattr(_cifar10h, "REMOTE_FILES", registry)
    home = tmp_path / "home"
    d = fetch_cifar10h(home, progress=False)
    np.testing.assert_array_equal(d.counts, counts)
    np.testing.assert_array_equal(d.images, images)
    np.testing.assert_array_equal(d.y_gold, labels)
    assert sorted(p.name for p in home.iterdir()) == sorted(registry)
    # cached: works with downloading disabled, and via SKSOFT_DATA
    monkeypatch.setenv("SKSOFT_DATA", str(home))
    d2 = fetch_cifar10h(download_if_missing=False)
    np.testing.assert_array_equal(d2.counts, counts)


def test_fetch_corrupted_file_is_not_cached(local_server, tmp_path, monkeypatch):
    registry, *_ = local_server
    bad = {k: dict(v) for k, v in registry.items()}
    bad["cifar10h-counts.npy"]["sha256"] = "0" * 64
    monkeypatch.setattr(_cifar10h, "REMOTE_FILES", bad)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="checksum mismatch"):
        fetch_cifar10h(home, progress=False)
    assert list(home.iterdir()) == []


def test_fetch_interrupted_download_leaves_nothing(local_server, tmp_path, monkeypatch):
    registry, *_ = local_server
    monkeypatch.setattr(_cifar10h, "REMOTE_FILES", registry)
    _Handler.truncate = {"cifar-10-binary.tar.gz"}
    home = tmp_path / "home"
    with pytest.raises(OSError):
        fetch_cifar10h(home, progress=False)
    assert [p.name for p in home.iterdir()] == ["cifar10h-counts.npy"]


def test_fetch_offline_gives_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_cifar10h, "REMOTE_FILES", {
        "cifar10h-counts.npy": {"url": "http://127.0.0.1:9/none.npy", "sha256": "0" * 64}})
    with pytest.raises(OSError, match="could not download.*place it at"):
        fetch_cifar10h(tmp_path, progress=False)


def test_read_cifar10_binary_rejects_bad_sizes():
    with pytest.raises(ValueError, match="multiple of 3073"):
        read_cifar10_binary(b"\x00" * 10)


# --------------------------------------------------------------------------- gold_noise, truth
def _sha256(d):
    m = hashlib.sha256()
    for k in ("X", "y_gold", "y_clean", "counts", "annotations", "ambiguity", "partner",
              "is_mislabeled"):
        a = np.ascontiguousarray(d[k])
        m.update(k.encode())
        m.update(str(a.dtype).encode())
        m.update(a.tobytes())
    return m.hexdigest()


@pytest.mark.parametrize("kwargs, digest", [
    ({"random_state": 0}, "30a77e688c63e404fe1b7204794932d9f1019e00e807f03af1c75b96222df6fd"),
    ({"random_state": 3, "annotators_per_item": 7, "mislabel_fraction": 0.1},
     "5fc4044685a8339830c72a3223e322daed0cb920fe72e5c0b4835f5b64f0395a"),
])
def test_coupled_gold_noise_is_bit_identical_to_the_earlier_generator(kwargs, digest):
    # digests of make_ambiguous_digits(**kwargs) before gold_noise existed (commit daf4d14),
    # so the study's shipped numbers, computed with the default, do not change
    assert _sha256(make_ambiguous_digits(**kwargs)) == digest
    assert _sha256(make_ambiguous_digits(gold_noise="coupled", **kwargs)) == digest


def test_gold_noise_options():
    kw = {"random_state": 5, "mislabel_fraction": 0.06}
    d = {g: make_ambiguous_digits(gold_noise=g, **kw) for g in ("coupled", "independent", "none")}
    # images, votes and truth do not depend on the option
    for g in ("independent", "none"):
        for key in ("X", "counts", "annotations", "y_clean", "true_proba", "partner"):
            np.testing.assert_array_equal(d[g][key], d["coupled"][key])
        assert d[g].gold_noise == g
    n = d["coupled"].X.shape[0]
    wrong = {g: d[g].y_gold != d[g].y_clean for g in d}
    for g in d:
        np.testing.assert_array_equal(wrong[g], d[g].is_mislabeled)
    assert wrong["coupled"].sum() == wrong["independent"].sum() == round(0.06 * n)
    assert not wrong["none"].any()
    np.testing.assert_array_equal(d["none"].y_gold, d["none"].y_clean)
    c = d["coupled"]
    assert np.all(c.y_gold[wrong["coupled"]] == c.partner[wrong["coupled"]])
    assert set(np.unique(d["independent"].y_gold)) <= set(range(10))


def test_independent_gold_noise_is_independent_of_the_votes():
    from scipy.stats import binom

    hits = total = amb = 0
    for seed in range(6):
        d = make_ambiguous_digits(gold_noise="independent", mislabel_fraction=0.1,
                                  random_state=seed)
        w = d.is_mislabeled
        hits += int(np.sum(d.y_gold[w] == d.partner[w]))
        total += int(w.sum())
        amb += int(np.sum(d.ambiguity[w] > 0))
        base = float(np.mean(d.ambiguity > 0))
    # the wrong class is uniform over the nine others: the partner one time in nine
    lo, hi = binom.ppf([0.0005, 0.9995], total, 1 / 9)
    assert lo <= hits <= hi, (hits, total)
    # and the items are uniform: ambiguous (blended) as often as in the data
    lo, hi = binom.ppf([0.0005, 0.9995], total, base)
    assert lo <= amb <= hi, (amb, total, base)
    # the coupled option is far outside these bands
    c = make_ambiguous_digits(mislabel_fraction=0.1, random_state=0)
    assert np.mean(c.y_gold[c.is_mislabeled] == c.partner[c.is_mislabeled]) == 1.0


def test_true_proba_is_the_vote_distribution():
    d = make_ambiguous_digits(random_state=0)
    P = d.true_proba
    n = P.shape[0]
    assert P.shape == (n, 10) and np.all(P > 0)
    np.testing.assert_allclose(P.sum(1), 1, rtol=0, atol=1e-12)
    # every annotator votes: a count is a sum of 50 independent Bernoulli votes whose mean is
    # 50 * true_proba (the pool average); its variance is at most the binomial one
    rows = np.arange(n)
    amb = d.ambiguity > 0
    for col, mask in ((d.y_clean, slice(None)), (d.partner, amb), (d.partner, ~amb)):
        c = d.counts[rows, col][mask]
        p = P[rows, col][mask]
        z = (c - 50 * p).sum() / np.sqrt((50 * p * (1 - p)).sum())
        assert abs(z) < 4, z
    # the check can fail: a truth without the lapses (clean images all on their class) is
    # more than 10 standard errors off
    c = d.counts[rows, d.y_clean][~amb]
    p = P[rows, d.y_clean][~amb]
    assert (50 - c).sum() > 10 * np.sqrt((50 * p * (1 - p)).sum())
    # blended images: the partner share rises with the blend weight; clean images: the clean
    # class plus lapses only
    assert np.corrcoef(d.ambiguity[amb], P[rows, d.partner][amb])[0, 1] > 0.8
    off = P[~amb].copy()
    off[np.arange(off.shape[0]), d.y_clean[~amb]] = 0
    assert off.max() < 0.01 and np.all(P[~amb].argmax(1) == d.y_clean[~amb])
