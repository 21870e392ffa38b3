"""Nomad job files (`*.nomad`, `*.nomad.hcl`): the `image` of each task's `config { ... }` (the
docker and podman drivers'), and the `default` of a variable named for an image
(`variable "image" { default = "redis:7.4" }`) when it has a tag. Nomad fills in
`${NOMAD_*}`, `${var.x}` and `${meta.x}` when the job runs: skipped as variables.
"""

from __future__ import annotations

import re

from tagbot.scan import hcl
from tagbot.scan.hcl import StringAttribute
from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped

KIND = "nomad"

declared_platforms = no_platforms
_IMAGE_NAME = re.compile(r"(?i).*image")
_TRANSPORT = "docker://"


def matches(path: str) -> bool:
    return path.endswith((".nomad", ".nomad.hcl"))


def extract(text: str) -> list[Found]:
    return images_in(text, 0)


def images_in(text: str, offset: int) -> list[Found]:
    """The images of a job written in `text`, which stands at `offset` in its file (a Terraform
    heredoc holds a whole job)."""
    found = []
    for attribute in hcl.string_attributes(text):
        if attribute.key == "image" and any(block[0] == "config" for block in attribute.blocks):
            found.append(attribute_found(attribute, offset))
        elif variable_default(attribute) and (image := attribute_found(attribute, offset)).image is not None \
                and (image.image.tag or image.image.digest):
            found.append(image)
    return found


def variable_default(attribute: StringAttribute) -> bool:
    """Whether the attribute is the default of a variable named for an image (`variable "image"`)."""
    return (attribute.key == "default" and len(attribute.blocks) == 1 and len(attribute.blocks[0]) == 2
            and attribute.blocks[0][0] == "variable" and bool(_IMAGE_NAME.fullmatch(attribute.blocks[0][1])))


def attribute_found(attribute: StringAttribute, offset: int = 0) -> Found:
    """The reference a string attribute holds, or a skip saying why it holds none."""
    written = (Piece(offset + attribute.start, attribute.text),)
    if attribute.text.startswith(_TRANSPORT) and len(attribute.text) > len(_TRANSPORT):
        # The podman driver's transport (`docker://redis:7`): the image is what follows it.
        written = (Piece(offset + attribute.start + len(_TRANSPORT), attribute.text[len(_TRANSPORT):]),)
    if attribute.templated:
        return skipped(written, "variable", "an interpolation sets it when the file is applied")
    if attribute.escaped or attribute.heredoc:
        return skipped(written, "unsupported", "escaped strings and heredocs are not rewritten")
    return image_found(written, written)

