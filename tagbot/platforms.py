"""Platform strings (`os/arch[/variant]`) normalised as containerd does, so `linux/arm64` and
`linux/arm64/v8` are one platform and an update is never judged to drop one it keeps."""

from __future__ import annotations

from functools import lru_cache

# Attestation manifests sit in image indexes as `unknown/unknown`: they run nowhere.
ATTESTATION = "unknown/unknown"

_ARCH_ALIASES = {"aarch64": "arm64", "x86_64": "amd64", "x86-64": "amd64", "i386": "386", "armhf": "arm", "armel": "arm"}
_VARIANT_FOR_ALIAS = {"armhf": "v7", "armel": "v6"}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
# What nearly everyone deploys; `platforms: auto` keeps these when a repository declares nothing.
DEFAULT_PLATFORMS = frozenset({"linux/amd64", "linux/arm64/v8"})


def normalize_platform(platform: str) -> str | None:
    """`Linux/ARM64` -> `linux/arm64/v8`; None for attestations and text that is no platform."""
    parts = platform.strip().lower().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    os_name, arch = parts[0], parts[1]
    variant = parts[2] if len(parts) == 3 else _VARIANT_FOR_ALIAS.get(arch, _DEFAULT_VARIANT.get(_ARCH_ALIASES.get(arch, arch)))
    arch = _ARCH_ALIASES.get(arch, arch)
    if arch == "amd64" and variant == "v1":
        variant = None  # amd64/v1 is plain amd64
    normal = f"{os_name}/{arch}" + (f"/{variant}" if variant else "")
    return None if f"{os_name}/{arch}" == ATTESTATION else normal


@lru_cache(maxsize=4096)
def normalize_platforms(platforms: frozenset[str]) -> frozenset[str]:
    """Cached: the tags of one build share one platform set, and every decision reads them."""
    return frozenset(p for p in map(normalize_platform, platforms) if p is not None)


def short_platform(platform: str) -> str:
    """How people write a platform: `linux/arm64/v8` -> `linux/arm64`; others stay."""
    return platform.removesuffix("/v8") if platform.endswith("/arm64/v8") else platform


def platform_name(os_name: str, architecture: str, variant: str | None = None) -> str:
    """`os/arch[/variant]`, as sources spell a platform's parts."""
    return f"{os_name}/{architecture}" + (f"/{variant}" if variant else "")
