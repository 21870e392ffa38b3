"""Terraform and OpenTofu (`*.tf`, `*.tofu`): the images a configuration runs, as string
attributes:
- `image` (also `image_name`, `*_image`) of containers: the Docker provider's
  `docker_container` and `docker_service`, the Kubernetes provider's `container` and
  `init_container` blocks, Cloud Run's `containers`, and elsewhere (an ECS task's
  `jsonencode([{ image = ... }])`, a module's inputs) when the value has a tag or digest, so a
  VM image (`image = "debian-cloud/debian-12"`) is not taken for one;
- `name` of a `docker_image` resource or `docker_registry_image` data source; one with a
  `build { }` block is the image this repository builds: skipped;
- the `default` of a variable named for an image (`variable "redis_image"`), when tagged;
- the jobs in a `nomad_job`'s `jobspec = <<EOT` heredoc, and the JSON in a
  `container_definitions = <<EOT` heredoc.
Interpolations (`"nginx:${var.tag}"`) are known when the configuration is applied: skipped as
variables. A reference to another resource (`image = docker_image.app.image_id`) is no string.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tagbot.errors import ScanError
from tagbot.scan import hcl, nomad
from tagbot.scan.hcl import StringAttribute
from tagbot.scan.model import Found, no_platforms, skipped

KIND = "terraform"

declared_platforms = no_platforms

_IMAGE_KEY = re.compile(r"image|image_name|[a-z0-9_]+_image")
_CONTAINER_BLOCKS = frozenset({"container", "init_container", "containers", "container_spec", "sidecar"})
_CONTAINER_RESOURCES = frozenset({"docker_container", "docker_service", "docker_plugin"})
_NAMED_IMAGES = frozenset({("resource", "docker_image"), ("data", "docker_registry_image"), ("data", "docker_image")})


def matches(path: str) -> bool:
    return path.endswith((".tf", ".tofu"))


def extract(text: str) -> list[Found]:
    return images_in(text, 0)


def images_in(text: str, offset: int) -> list[Found]:
    attributes = hcl.string_attributes(text)
    built = {attribute.blocks[0] for attribute in attributes if len(attribute.blocks) > 1 and attribute.blocks[1] == ("build",)}
    found: list[Found] = []
    for attribute in attributes:
        if attribute.heredoc and attribute.key in _HEREDOCS:
            found += _within(text, attribute, _HEREDOCS[attribute.key], offset)
        elif _named_image(attribute):
            reference = nomad.attribute_found(attribute, offset)
            if attribute.blocks[0] in built:
                reference = skipped(reference.pieces, "build", "its build { } block builds it here")
            found.append(reference)
        elif _IMAGE_KEY.fullmatch(attribute.key) and not attribute.heredoc:
            reference = nomad.attribute_found(attribute, offset)
            if _in_container(attribute) or _tagged(reference):
                found.append(reference)
        elif nomad.variable_default(attribute) and _tagged(reference := nomad.attribute_found(attribute, offset)):
            found.append(reference)
    return found


# Heredocs whose text is a language of its own: a Nomad job, an ECS task's JSON (HCL reads it).
_HEREDOCS: dict[str, Callable[[str, int], list[Found]]] = {"jobspec": nomad.images_in, "container_definitions": images_in}


def _within(text: str, attribute: StringAttribute, images_of: Callable[[str, int], list[Found]],
            offset: int) -> list[Found]:
    """The images in a heredoc's text, placed in the file; an error in it names the file's line."""
    try:
        return images_of(attribute.text, offset + attribute.start)
    except ScanError as e:
        line = None if e.line is None else text.count("\n", 0, attribute.start) + e.line
        raise ScanError("", line, f"in the {attribute.key} heredoc: {e.problem}") from e


def _named_image(attribute: StringAttribute) -> bool:
    return attribute.key == "name" and len(attribute.blocks) == 1 and attribute.blocks[0][:2] in _NAMED_IMAGES


def _in_container(attribute: StringAttribute) -> bool:
    outer = attribute.blocks[0] if attribute.blocks else ()
    if len(outer) >= 2 and outer[0] == "resource" and outer[1] in _CONTAINER_RESOURCES:
        return True
    return any(block and block[0] in _CONTAINER_BLOCKS for block in attribute.blocks)


def _tagged(found: Found) -> bool:
    return found.image is not None and bool(found.image.tag or found.image.digest)
