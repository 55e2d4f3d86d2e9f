"""Puts the connector's two jars into the wheel and tags it for linux x86_64 (the jars hold native code).

The jars are built by Maven (scripts/build-wheel.sh builds them when missing) and read from jvm/target, so the
repository holds no copy of them. Each must carry exactly one native library, the glibc 2.17 build of
scripts/build-native.sh, hence the manylinux2014 tag (glibc 2.17 or newer)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SCALA_VERSIONS = ("2.12", "2.13")
NATIVE_PREFIX = "native/"
NATIVE_LIBRARY = "native/linux-x86_64/libfeaturestore_jni.so"
WHEEL_TAG = "py3-none-manylinux2014_x86_64"


class JarsBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        jvm_target = Path(self.root).parent / "jvm" / "target"
        for scala in SCALA_VERSIONS:
            name = f"featurestore-spark_{scala}-{self.metadata.version}.jar"
            jar = jvm_target / f"scala-{scala}" / name
            if not jar.is_file():
                raise RuntimeError(f"{jar} is missing: build it first (scripts/build-wheel.sh does)")
            with zipfile.ZipFile(jar) as archive:
                native = [n for n in archive.namelist() if n.startswith(NATIVE_PREFIX) and not n.endswith("/")]
            if native != [NATIVE_LIBRARY]:
                raise RuntimeError(f"{jar} must hold exactly {NATIVE_LIBRARY}, and holds {native}")
            build_data["force_include"][str(jar)] = f"featurestore_spark/jars/{name}"
        build_data["pure_python"] = False
        build_data["tag"] = WHEEL_TAG
