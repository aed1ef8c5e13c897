"""Build the Cython kernels of sksoft.

Every ``sksoft/**/*.pyx`` is cythonized with the compiler directives set once here. OpenMP is
used when the compiler accepts it (probed at build time by compiling and linking a tiny program)
and dropped otherwise, in which case the ``prange`` loops simply run on one thread. Set
``SKSOFT_NO_OPENMP=1`` to force the single-threaded build.
"""

import glob
import os
import shutil
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
}


def _openmp_flags(compiler):
    """Return (compile_args, link_args) for OpenMP, or ([], []) when unsupported."""
    if os.environ.get("SKSOFT_NO_OPENMP"):
        return [], []
    ctype = getattr(compiler, "compiler_type", "")
    if ctype == "msvc":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    code = textwrap.dedent(
        """
        #include <omp.h>
        #include <stdio.h>
        int main(void) {
            int n = 0;
            #pragma omp parallel reduction(+:n)
            n += 1;
            printf("%d", n > 0);
            return 0;
        }
        """
    )
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "probe_openmp.c")
        with open(src, "w") as fh:
            fh.write(code)
        for cflags, lflags in candidates:
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(
                    objs, "probe_openmp", output_dir=tmp, extra_postargs=lflags
                )
                return cflags, lflags
            except Exception:  # noqa: BLE001 - any failure means "no OpenMP"
                continue
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [], []


class BuildExt(build_ext):
    def build_extensions(self):
        cflags, lflags = _openmp_flags(self.compiler)
        opt = [] if self.compiler.compiler_type == "msvc" else ["-O3", "-fno-trapping-math"]
        state = "enabled" if cflags else "disabled (single-threaded kernels)"
        print(f"sksoft: OpenMP {state}")
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args) + opt + cflags
            ext.extra_link_args = list(ext.extra_link_args) + lflags
        super().build_extensions()


def _extensions():
    exts = []
    for pyx in sorted(glob.glob(os.path.join("sksoft", "**", "*.pyx"), recursive=True)):
        name = os.path.splitext(pyx)[0].replace(os.sep, ".")
        exts.append(
            Extension(
                name,
                [pyx],
                include_dirs=[np.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            )
        )
    return cythonize(exts, compiler_directives=DIRECTIVES)


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
