"""Scan speed on a synthetic monorepo: `python bench/scan.py [--dockerfiles N] [--compose N] ...`.

Builds a git work tree of 7,000 files of every kind: multi-stage Dockerfiles (ARGs, heredocs,
mounts, digests), compose files (anchors, merges, variables, flow style), Kubernetes manifests
(multi-document, a Helm template among them), Helm values, workflows, kustomizations, GitLab CI
pipelines with includes, dev containers, CircleCI, Bitbucket, Azure, Drone, Cloud Build,
Jenkins and Buildkite pipelines, Quadlet units, Terraform, Nomad and Ansible files, annotated
Makefiles, scripts a `patterns:` entry reads, and files that are none of these (YAML, which must
be opened to learn it is no manifest; READMEs, opened to learn they hold no annotation). Scans it in this one process and prints files/s and
references/s. Target: under 3 s on one core.

Then the same tree with 1,000 files of custom resources (images in their own fields) and
ConfigMaps holding YAML in a block (`--custom-resources`), and with 3,000 source files of no
kind, each opened to learn it holds no annotation (`--source`).

Then the cost of that opening: the same tree scanned with the other YAML files, and with them
renamed to a suffix no scanner reads; the difference per file is what it costs.

Then single hostile files (and GitLab pipelines) that were quadratic or worse once (issues 10
and 20): each must scale linearly, so doubling the size must about double the time.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from tagbot.scan import scan_paths
from tagbot.scan.patterns import compiled

DIGEST = "sha256:" + "5e" * 32

DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG NODE={n}.11.0
ARG ALPINE=3.2{m}

FROM --platform=$BUILDPLATFORM node:${{NODE}}-alpine${{ALPINE}} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \\
    npm ci --omit=dev

FROM golang:1.23.{m}-bookworm AS build
RUN <<EOF
set -e
echo "FROM not-an-image:1" > /tmp/x
EOF
COPY --from=deps /app/node_modules /app/node_modules
RUN --mount=type=bind,from=ghcr.io/astral-sh/uv:0.5.{m},source=/uv,target=/bin/uv uv --version

# the runtime image
FROM gcr.io/distroless/static-debian12:nonroot@{digest} AS runtime
COPY --from=build /out/app /app
COPY --from=docker.io/library/busybox:1.37.{m}-musl /bin/busybox /bin/busybox
ENTRYPOINT ["/app"]
"""

COMPOSE = """\
x-app: &app
  image: "ghcr.io/acme/service-{n}:1.{m}.2"
  restart: unless-stopped

services:
  web:
    <<: *app
    ports: ["8080:80"]
  worker:
    <<: *app
    command: worker
  db:
    image: postgres:16.{m}-bookworm  # primary
  cache: {{image: 'redis:7.{m}-alpine'}}
  proxy:
    image: nginx:1.27.{m}@{digest}
    platform: linux/arm64
  metrics:
    image: "prom/prometheus:${{PROM_TAG:-v2.54.{m}}}"
  built:
    build: .
    image: acme/built:dev
"""


MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-{n}
  labels: {{app: service-{n}}}
spec:
  replicas: 3
  template:
    spec:
      initContainers:
        - name: migrate
          image: "ghcr.io/acme/migrate-{n}:2.{m}.0"
      containers:
        - name: app
          image: ghcr.io/acme/service-{n}:1.{m}.2
          ports: [{{containerPort: 8080}}]
          env:
            - {{name: MODE, value: production}}
        - name: proxy
          image: envoyproxy/envoy:v1.31.{m}@{digest}
---
apiVersion: v1
kind: Service
metadata:
  name: service-{n}
spec:
  ports: [{{port: 80, targetPort: 8080}}]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly-{n}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: alpine:3.2{m}
"""

HELM_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "chart.fullname" . }}}}
spec:
  template:
    spec:
      containers:
        - name: {{{{ .Chart.Name }}}}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
        - name: metrics
          image: prom/prometheus:v2.54.{m}
"""

VALUES = """\
replicaCount: 1
image:
  registry: docker.io
  repository: bitnami/postgresql
  tag: 16.{m}.0-debian-12-r3
  digest: ""
  pullPolicy: IfNotPresent
metrics:
  enabled: true
  image:
    repository: prom/prometheus
    tag: "v2.54.{m}"
controller:
  image:
    registry: registry.k8s.io
    image: ingress-nginx/controller
    tag: v1.11.{m}
    digest: {digest}
sidecarImage: busybox:1.36.{m}
resources: {{limits: {{cpu: 100m, memory: 128Mi}}}}
"""

WORKFLOW = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    container: node:22.{m}.0-alpine
    services:
      db:
        image: postgres:16.{m}
        env: {{POSTGRES_PASSWORD: test}}
      cache: redis:7.{m}-alpine
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.2{m}
      - run: npm ci && npm test
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          platforms: linux/amd64,linux/arm64
"""

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
images:
  - name: postgres
    newTag: "16.{m}"
  - name: app
    newName: ghcr.io/acme/app-{n}
    newTag: 1.{m}.0
"""

GITLAB_CI = """\
include:
  - local: ci/common.yml
image: python:${{PYTHON}}
services:
  - name: postgres:16.{m}
    alias: db
test:
  extends: .base
  script: [pytest]
"""

GITLAB_COMMON = """\
variables:
  PYTHON: "3.12.{m}"
.base:
  services: [redis:7.{m}-alpine]
"""

DEVCONTAINER = """\
// dev container {n}
{{
  "image": "mcr.microsoft.com/devcontainers/python:1-3.12-bookworm",
  "features": {{
    "ghcr.io/devcontainers/features/node:1": {{"version": "lts"}},
    "ghcr.io/devcontainers/features/docker-in-docker:2": {{}},
  }},
}}
"""

# A YAML file that is none of tagbot's: mkdocs, OpenAPI, Ansible and the like.
OTHER_YAML = """\
site_name: Service {n}
nav:
  - Home: index.md
  - API: api.md
theme: {{name: material, features: [navigation.tabs]}}
plugins: [search]
markdown_extensions:
  - toc: {{permalink: true}}
  - admonition
extra:
  version: 1.{m}
"""


# Other CI systems' pipelines (issue 24): one file of each a folder.
CI_FILES = {
    ".circleci/config.yml": "jobs:\n  test:\n    docker:\n      - image: cimg/node:20.{m}\n      - image: postgres:16.{m}\n"
                            "    steps: [checkout]\n",
    "bitbucket-pipelines.yml": "image: python:3.12.{m}\npipelines:\n  default:\n    - step:\n        image: node:20.{m}\n"
                               "        script: [npm test]\n",
    "azure-pipelines.yml": "jobs:\n  - job: test\n    container: python:3.12.{m}\n    steps: [{{script: pytest}}]\n",
    ".drone.yml": "kind: pipeline\nsteps:\n  - name: test\n    image: golang:1.22.{m}\n",
    "cloudbuild.yaml": "steps:\n  - name: node:20.{m}\n    args: [ci]\n",
    "Jenkinsfile": "pipeline {{\n  agent {{ docker {{ image 'maven:3.9.{m}' }} }}\n  stages {{ stage('t') {{ steps {{ sh 'mvn test' }} }} }}\n}}\n",
}

# Infrastructure files, annotations and patterns (issue 24): one of each a folder, and a README
# of no kind, read for annotations and passed over.
INFRA_FILES = {
    ".buildkite/pipeline.yml": "steps:\n  - plugins:\n      - docker#v5.11.0:\n          image: node:20.{m}\n",
    "web.container": "[Unit]\nDescription=web\n\n[Container]\nImage=docker.io/library/nginx:1.27.{m}\nPublishPort=80:80\n",
    "main.tf": ('resource "docker_image" "nginx" {{\n  name = "nginx:1.27.{m}"\n}}\n'
                'resource "kubernetes_deployment" "web" {{\n  spec {{\n    template {{\n      spec {{\n'
                '        container {{\n          name  = "web"\n          image = "node:20.{m}"\n        }}\n'
                '      }}\n    }}\n  }}\n}}\n'),
    "jobs/web.nomad.hcl": 'job "web" {{\n  group "g" {{\n    task "t" {{\n      driver = "docker"\n'
                          '      config {{\n        image = "redis:7.{m}"\n      }}\n    }}\n  }}\n}}\n',
    "roles/web/tasks/main.yml": "- name: run\n  community.docker.docker_container:\n    name: web\n"
                                "    image: postgres:16.{m}\n- docker_image: {{name: python, tag: '3.12.{m}'}}\n",
    "Makefile": "# tagbot: image\nIMAGE ?= golang:1.22.{m}\n\ntest:\n\tdocker run $(IMAGE) go test ./...\n",
    "scripts/deploy.sh": "#!/bin/sh\ndocker pull alpine:3.{m} # image\n",
    "README.md": "# repo\n\nNothing for tagbot here: `node:20` is prose.\n",
}
PATTERNS = [compiled("patterns[0]", ["**/scripts/*.sh"], r"(?P<image>[\w./-]+):(?P<tag>[\w.-]+) # image", None)]
SOURCE = "import os\n\n\ndef main() -> None:\n    print(os.environ.get('IMAGE', 'node:20'))\n" * 20

# Custom resources with images in their own fields, and a ConfigMap holding YAML (issue 23).
CUSTOM_RESOURCES = """\
apiVersion: kubeflow.org/v1beta1
kind: KatibConfig
runtime:
  metricsCollectors:
    - kind: StdOut
      image: ghcr.io/kubeflow/katib/file-metrics-collector:v0.1{m}.0
  suggestions:
    - algorithmName: random
      image: ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.1{m}.0
---
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: pi-{n}
spec:
  image: "spark:3.5.{m}"
  sidecarImage: redis:7.{m}-alpine
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: katib-config-{n}
data:
  katib-config.yaml: |
    runtime:
      earlyStoppings:
        - algorithmName: medianstop
          image: ghcr.io/kubeflow/katib/earlystopping-medianstop:v0.1{m}.0
    init:
      controller:
        webhookPort: 8443
"""


def build_tree(root: Path, counts: dict[str, int], other_suffix: str = ".yaml") -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("dist/\n")
    layouts = {
        "dockerfiles": [("services/s{g}/app{i}/Dockerfile", DOCKERFILE)],
        "compose": [("stacks/s{g}/stack{i}/compose.yaml", COMPOSE)],
        "manifests": [("deploy/d{g}/service{i}.yaml", MANIFEST)],
        "custom_resources": [("operators/o{g}/operator{i}.yaml", CUSTOM_RESOURCES)],
        "ci": [(f"ci/c{{g}}/repo{{i}}/{name}", text) for name, text in CI_FILES.items()],
        "infra": [(f"infra/i{{g}}/repo{{i}}/{name}", text) for name, text in INFRA_FILES.items()],
        "source": [("src/s{g}/pkg{i}/module.py", SOURCE)],
        "helm": [("charts/c{g}/chart{i}/values.yaml", VALUES), ("charts/c{g}/chart{i}/templates/deployment.yaml", HELM_TEMPLATE)],
        "workflows": [("repos/r{g}/repo{i}/.github/workflows/ci.yml", WORKFLOW)],
        "kustomize": [("overlays/o{g}/env{i}/kustomization.yaml", KUSTOMIZATION)],
        "gitlab": [("pipelines/p{g}/project{i}/.gitlab-ci.yml", GITLAB_CI), ("pipelines/p{g}/project{i}/ci/common.yml", GITLAB_COMMON)],
        "devcontainers": [("workspaces/w{g}/ws{i}/.devcontainer/devcontainer.json", DEVCONTAINER)],
        "other_yaml": [("docs/d{g}/site{i}/mkdocs" + other_suffix, OTHER_YAML)],
    }
    for kind, count in counts.items():
        for i in range(count):
            for pattern, template in layouts[kind]:
                path = root / pattern.format(g=i // 10, i=i)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(template.format(n=18 + i % 6 if kind == "dockerfiles" else i, m=i % 10, digest=DIGEST))


HOSTILE = {
    "FROM \\ continued, 10,000 lines": ("Dockerfile", "FROM \\\n" * 10_000 + "x\n"),
    "FROM \\ continued, 20,000 lines": ("Dockerfile", "FROM \\\n" * 20_000 + "x\n"),
    "compose, 20,000 services": ("compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: redis:7.{i}\n" for i in range(20_000))),
    "compose, 40,000 services": ("compose.yaml", "services:\n" + "".join(f"  s{i}:\n    image: redis:7.{i}\n" for i in range(40_000))),
    "manifests, 10,000 documents": ("deploy.yaml", "".join(
        f"---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7.{i}\n" for i in range(10_000))),
    "manifests, 20,000 documents": ("deploy.yaml", "".join(
        f"---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7.{i}\n" for i in range(20_000))),
    "values, 10,000 images": ("values.yaml", "".join(
        f"s{i}:\n  image: {{repository: redis, tag: '7.{i}'}}\n" for i in range(10_000))),
    "values, 20,000 images": ("values.yaml", "".join(
        f"s{i}:\n  image: {{repository: redis, tag: '7.{i}'}}\n" for i in range(20_000))),
    "merge-key tower, 40 levels": ("compose.yaml", "x-a0: &a0 {image: r:1}\n" + "".join(
        f"x-a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 40)) + "services:\n  s: {<<: *a39}\n"),
    "ARG doubling, 30 lines": ("Dockerfile", "ARG A0=x\n" + "".join(
        f"ARG A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 31)) + "FROM r:${A30}\n"),
}


def _extends_chain(jobs: int) -> str:
    """Jobs each extending the next six times over (issue 20: 11 such jobs passed a minute)."""
    return "".join(f"j{i}:\n  extends: [{', '.join([f'j{i + 1}'] * 6)}]\n  variables: {{V{i}: '{i}'}}\n  image: redis:$V{i}\n"
                   for i in range(jobs)) + f"j{jobs}:\n  image: redis:7\n"


def _glob_includes(files: int) -> dict[str, str]:
    """A pipeline whose include glob once backtracked (89 s against one 120-character name)."""
    tree = {f"ci/{'x' * 120}{i}.yml": f"job{i}:\n  image: redis:7.{i}\n" for i in range(files)}
    tree[".gitlab-ci.yml"] = "include:\n  - local: 'ci/**x**x**x**x**x**x**x**x**x**x**x**xy.yml'\n  - local: 'ci/*.yml'\n"
    return tree


HOSTILE_TREES: dict[str, dict[str, str]] = {
    "GitLab extends x6, 500 jobs": {".gitlab-ci.yml": _extends_chain(500)},
    "GitLab extends x6, 1,000 jobs": {".gitlab-ci.yml": _extends_chain(1000)},
    "GitLab include glob, 250 files": _glob_includes(250),
    "GitLab include glob, 500 files": _glob_includes(500),
}


def time_hostile() -> None:
    cases = {**{label: {name: text} for label, (name, text) in HOSTILE.items()}, **HOSTILE_TREES}
    with tempfile.TemporaryDirectory() as tmp:
        for label, files in cases.items():
            folder = Path(tmp) / label.replace(" ", "_").replace(",", "").replace("\\", "")
            for name, text in files.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_text(text)
            started = time.perf_counter()
            scan_paths([folder], base=folder)
            size = sum(len(text) for text in files.values())
            print(f"  {label:<36} {time.perf_counter() - started:6.2f} s ({size / 1024:,.0f} KiB)")


# 7,000 files: at least 1,000 manifests, 300 values files and 300 workflows among them.
# 7,000 files: `ci` is 100 folders of 6 pipelines (CircleCI, Bitbucket, Azure, Drone, Cloud Build, Jenkins),
# `infra` 50 of 8 files (Buildkite, Quadlet, Terraform, Nomad, Ansible, an annotated Makefile, a script
# a pattern reads, a README of no kind).
DEFAULT_COUNTS = {"dockerfiles": 2000, "compose": 1200, "manifests": 1000, "helm": 300, "workflows": 300,
                  "kustomize": 200, "gitlab": 150, "devcontainers": 200, "other_yaml": 200, "ci": 100, "infra": 50}


def best_scan(root: Path, runs: int) -> tuple[float, list[float], object]:
    timings = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = scan_paths([root], base=root, patterns=PATTERNS)
        timings.append(time.perf_counter() - started)
    return min(timings), timings, result


def main() -> None:
    parser = argparse.ArgumentParser(description="Scan speed on a synthetic monorepo.")
    for kind, count in DEFAULT_COUNTS.items():
        parser.add_argument(f"--{kind.replace('_', '-')}", type=int, default=count, dest=kind)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--custom-resources", type=int, default=1000, dest="custom_resources",
                        help="files of custom resources and ConfigMaps holding YAML, scanned in a second tree")
    parser.add_argument("--source", type=int, default=3000,
                        help="source files of no kind (read for annotations only), scanned in a third tree")
    args = parser.parse_args()
    counts = {kind: getattr(args, kind) for kind in DEFAULT_COUNTS}
    report(counts, args.runs)
    if args.custom_resources:
        print(f"\nthe same with {args.custom_resources} custom-resource and ConfigMap files more (issue 23):")
        report({**counts, "custom_resources": args.custom_resources}, args.runs)
    if args.source:
        print(f"\nthe same with {args.source} source files of no kind more, each opened for annotations (issue 24):")
        report({**counts, "source": args.source}, args.runs)
    time_other_yaml(args.runs)
    print("hostile single files (linear: twice the size, about twice the time):")
    time_hostile()


def report(counts: dict[str, int], runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_tree(root, counts)
        best, timings, result = best_scan(root, runs)
    references = len(result.references)
    skipped = sum(r.skipped for r in result.references)
    by_kind = Counter(r.kind for r in result.references)
    print(f"files scanned:  {result.files} ({', '.join(f'{n} {k}' for k, n in counts.items())})")
    print(f"references:     {references} ({skipped} skipped), errors: {len(result.errors)}")
    print(f"  by kind:      {', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))}")
    print(f"wall time:      {best:.2f} s (best of {runs}: {', '.join(f'{t:.2f}' for t in timings)})")
    print(f"files/s:        {result.files / best:,.0f}")
    print(f"references/s:   {references / best:,.0f}")
    print(f"target < 3 s:   {'met' if best < 3.0 else 'MISSED'}")


def time_other_yaml(runs: int, count: int = 2000) -> None:
    """What it costs that any YAML file may be a manifest: `count` YAML files of other tools,
    scanned as .yaml (opened, tested, passed over) and as .txt (never opened)."""
    seconds = {}
    for suffix in (".yaml", ".txt"):
        with tempfile.TemporaryDirectory() as tmp:
            build_tree(Path(tmp), {"other_yaml": count}, other_suffix=suffix)
            seconds[suffix], _, _ = best_scan(Path(tmp), runs)
    cost = seconds[".yaml"] - seconds[".txt"]
    print(f"other YAML files, {count}: {seconds['.yaml']:.2f} s read as possible manifests, "
          f"{seconds['.txt']:.2f} s as .txt (only searched for an annotation): {cost / count * 1e6:,.0f} µs a file")
    with tempfile.TemporaryDirectory() as tmp:
        text = OTHER_YAML.format(n=1, m=1).replace("extra:", "kind: docs\napiVersion: none\nextra:")
        build_tree(Path(tmp), {"other_yaml": count})
        for path in Path(tmp).rglob("mkdocs.yaml"):
            path.write_text(text)
        parsed, _, _ = best_scan(Path(tmp), runs)
    print(f"  the same {count} naming apiVersion and kind (parsed, as no substring test spares them): "
          f"{parsed:.2f} s, {(parsed - seconds['.txt']) / count * 1e6:,.0f} µs a file")


if __name__ == "__main__":
    main()
