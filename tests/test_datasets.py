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
