"""``ramp publish``: the data directory as a Hub dataset (remote, or the same layout locally)."""

from __future__ import annotations

import os
import shutil

# What goes to the Hub: the card, the Parquet configs and stats; not the staging area.
_PUBLISHED = ("README.md", "stats.json", "tasks", "passages", "rejects")


class PublishError(RuntimeError):
    """A one-line reason the dataset could not be published."""


def _check(directory: str) -> None:
    for name in ("README.md", "tasks"):
        if not os.path.exists(os.path.join(directory, name)):
            raise PublishError(f"{directory} has no {name}; run `ramp data` first")


def publish_local(directory: str, local_dir: str) -> str:
    _check(directory)
    os.makedirs(local_dir, exist_ok=True)
    for name in _PUBLISHED:
        src, dst = os.path.join(directory, name), os.path.join(local_dir, name)
        if os.path.isdir(src):
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(src, dst)
        elif os.path.exists(src):
            shutil.copy2(src, dst)
    return local_dir


def publish_hub(directory: str, repo_id: str, private: bool = False) -> str:
    _check(directory)
    try:
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError as exc:  # pragma: no cover - the hub extra is not installed
        raise PublishError("huggingface_hub is not installed (pip install 'ramp-search[hub]')") from exc
    api = HfApi()
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=directory,
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=["README.md", "stats.json", "tasks/*", "passages/*", "rejects/*"],
        )
    except HfHubHTTPError as exc:
        code = getattr(exc.response, "status_code", None)
        if code in (401, 403):
            raise PublishError(f"not authorised for {repo_id}: run `hf auth login` or set HF_TOKEN") from None
        raise PublishError(f"the Hub refused the upload ({code}): {exc}".splitlines()[0]) from None
    except OSError as exc:  # requests' ConnectionError is an OSError
        raise PublishError(f"cannot reach the Hub (offline?): {type(exc).__name__}") from None
    except Exception as exc:  # e.g. no token stored: one line, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PublishError(f"cannot publish to {repo_id}: {first}") from None
    return f"https://huggingface.co/datasets/{repo_id}"


def publish(
    directory: str, repo_id: str | None = None, local_dir: str | None = None, private: bool = False
) -> str:
    if bool(repo_id) == bool(local_dir):
        raise PublishError("give exactly one of --repo-id ORG/NAME or --local-dir PATH")
    if local_dir:
        return publish_local(directory, local_dir)
    return publish_hub(directory, repo_id, private)
