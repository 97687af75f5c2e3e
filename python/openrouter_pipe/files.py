"""Open WebUI's file storage for the engine's intake stage (issue #11).

Exists because only Python can reach Open WebUI's files: the engine asks, through the
host port, to describe a file the chat user may read (``file_info``), to read it a chunk
at a time (``file_chunk``, so no more than the size limit is ever held), to keep a copy
(``file_store``, through Open WebUI's own upload handler, owned by the chat user or the
fallback storage user) and for Open WebUI's upload limit (``file_limits``). Open WebUI
modules are only used when the running server has already loaded them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import mimetypes
import os
import sys
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger("openrouter_pipe")

# Roles a service account should never have.
_PRIVILEGED_ROLES = {"admin", "system", "owner"}

# Fields of a ``__files__`` entry the engine reads; the rest (file content, embeddings
# metadata) stays here.
_ENTRY_KEYS = ("type", "id", "name", "url", "content_type", "size")


class Unavailable(Exception):
    """Open WebUI's storage cannot be reached from here (not inside a server)."""


def _loaded(module: str, name: str) -> Any:
    """An attribute of an already imported Open WebUI module, else ``None`` (importing
    Open WebUI outside a running server can exit the process)."""
    return getattr(sys.modules.get(module), name, None)


def _is_stored_file(entry: dict[str, Any]) -> bool:
    """Whether a ``__files__`` entry is a file in Open WebUI's storage. Open WebUI also lists
    knowledge collections, notes, folders and web pages there (and, with legacy function
    calling, a model's knowledge as ``legacy`` references): their content reaches the model
    through Open WebUI's retrieval, and they are no files the pipe could read."""
    if entry.get("legacy") is True:
        return False
    kind = entry.get("type")
    if kind is None:
        return isinstance(entry.get("file"), dict)
    return kind in ("file", "image")


def describe_attached(files: Any) -> list[dict[str, Any]]:
    """The request's ``__files__`` reduced to what the engine needs: Open WebUI files only."""
    described = []
    for entry in files if isinstance(files, list) else ():
        if not isinstance(entry, dict) or not _is_stored_file(entry):
            continue
        item = {k: entry[k] for k in _ENTRY_KEYS if isinstance(entry.get(k), (str, int))}
        nested = entry.get("file") if isinstance(entry.get("file"), dict) else {}
        if "id" not in item and isinstance(nested.get("id"), str):
            item["id"] = nested["id"]
        if "name" not in item and isinstance(nested.get("filename"), str):
            item["name"] = nested["filename"]
        meta = nested.get("meta") if isinstance(nested.get("meta"), dict) else {}
        if "content_type" not in item and isinstance(meta.get("content_type"), str):
            item["content_type"] = meta["content_type"]
        if item.get("id"):
            described.append(item)
    return described


def _mime_of(file: Any) -> str:
    meta = getattr(file, "meta", None) or {}
    for value in (meta.get("content_type"), meta.get("mime_type"), meta.get("mimeType")):
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    guessed, _ = mimetypes.guess_type(getattr(file, "filename", "") or "")
    return guessed or "application/octet-stream"


class _StorageUser:
    """The fallback owner of stored files, created once per process."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._user: Any = None
        self._warned = False

    async def get(self, wanted: dict[str, Any]) -> Any:
        users = _loaded("open_webui.models.users", "Users")
        if users is None:
            raise Unavailable("Open WebUI users are not loaded")
        email = str(wanted.get("email") or "openrouter-pipe@system.local").strip()
        role = str(wanted.get("role") or "pending").strip().lower()
        async with self._lock:
            if self._user is not None and getattr(self._user, "email", None) == email:
                return self._user
            if role in _PRIVILEGED_ROLES and not self._warned:
                self._warned = True
                log.warning("FALLBACK_STORAGE_ROLE is %r: the storage account should not be privileged", role)
            user = await users.get_user_by_email(email)
            if user is None:
                # No password is ever set (no auth row), so nobody can sign in as it.
                hex_id = uuid.uuid4().hex
                user = await users.insert_new_user(
                    id=f"openrouter-pipe-{hex_id}",
                    name=str(wanted.get("name") or "OpenRouter Pipe Storage"),
                    email=email,
                    profile_image_url="/user.png",
                    role=role,
                    oauth={"sub": f"openrouter-pipe-storage:{hex_id}"},
                )
                log.info("Created the OpenRouter pipe storage account %s", email)
            self._user = user
            return user


STORAGE_USER = _StorageUser()


class OwuiFiles:
    """The file host calls of one answer; ``context`` is what Open WebUI passed to ``pipe()``."""

    def __init__(self, context: dict[str, Any]) -> None:
        user = context.get("user")
        self._user_id = user.get("id") if isinstance(user, dict) else None
        self._request = context.get("request")
        self._paths: dict[str, tuple[str, int]] = {}

    async def _chat_user(self) -> Any:
        users = _loaded("open_webui.models.users", "Users")
        if users is None or not self._user_id:
            return None
        return await users.get_user_by_id(self._user_id)

    async def info(self, args: Any) -> dict[str, Any]:
        file_id = str((args or {}).get("id") or "")
        files = _loaded("open_webui.models.files", "Files")
        storage = _loaded("open_webui.storage.provider", "Storage")
        if files is None or storage is None:
            raise Unavailable("Open WebUI file storage is not loaded")
        file = await files.get_file_by_id(file_id)
        if file is None:
            raise LookupError(f"no file {file_id}")
        user = await self._chat_user()
        if user is None:
            raise PermissionError("no user to check access for")
        if file.user_id != user.id and getattr(user, "role", None) != "admin":
            has_access = _loaded("open_webui.utils.access_control.files", "has_access_to_file")
            if has_access is None or not await has_access(file.id, "read", user):
                raise PermissionError(f"file {file_id} is not the user's")
        local = Path(await asyncio.to_thread(storage.get_file, file.path))
        if not local.is_file():
            raise FileNotFoundError(f"the bytes of file {file_id} are gone")
        size = local.stat().st_size
        self._paths[file_id] = (str(local), size)
        return {"name": getattr(file, "filename", "") or "", "mime": _mime_of(file), "size": size}

    async def chunk(self, args: Any) -> dict[str, Any]:
        args = args or {}
        file_id = str(args.get("id") or "")
        if file_id not in self._paths:
            raise LookupError(f"file {file_id} was not described first")
        path, size = self._paths[file_id]
        offset = max(0, int(args.get("offset") or 0))
        length = max(1, int(args.get("length") or 1))

        def read() -> bytes:
            with open(path, "rb") as handle:
                handle.seek(offset)
                return handle.read(length)

        data = await asyncio.to_thread(read)
        eof = len(data) < length or offset + len(data) >= size
        return {"base64": base64.b64encode(data).decode("ascii"), "bytes": len(data), "eof": eof}

    async def store(self, args: Any) -> dict[str, Any]:
        args = args or {}
        handler = _loaded("open_webui.routers.files", "upload_file_handler")
        if handler is None or self._request is None:
            raise Unavailable("Open WebUI uploads are not available here")
        from fastapi import BackgroundTasks, UploadFile  # noqa: PLC0415 - only inside Open WebUI
        from starlette.datastructures import Headers  # noqa: PLC0415

        user = await self._chat_user()
        if user is None:
            user = await STORAGE_USER.get(args.get("fallback_user") or {})
        name = os.path.basename(str(args.get("name") or f"file-{uuid.uuid4().hex}"))
        mime = str(args.get("mime") or "application/octet-stream")
        take = args.get("payload")
        encoded = take() if callable(take) else str(args.get("base64") or "")
        data = await asyncio.to_thread(base64.b64decode, encoded or b"")
        del encoded
        upload = UploadFile(file=io.BytesIO(data), filename=name, headers=Headers({"content-type": mime}))
        result = await handler(
            self._request,
            file=upload,
            metadata={"mime_type": mime},
            process=False,
            process_in_background=False,
            user=user,
            background_tasks=BackgroundTasks(),
        )
        file_id = getattr(result, "id", None) or (result.get("id") if isinstance(result, dict) else None)
        if not file_id:
            raise RuntimeError("Open WebUI returned no file id")
        return {"id": file_id, "url": f"/api/v1/files/{file_id}/content"}

    async def limits(self, _args: Any) -> dict[str, Any]:
        config = _loaded("open_webui.models.config", "Config")
        if config is None:
            raise Unavailable("Open WebUI configuration is not loaded")
        max_size = await config.get("rag.file.max_size")
        bypass = await config.get("rag.bypass_embedding_and_retrieval")
        try:
            max_mb = int(max_size) if max_size else None
        except (TypeError, ValueError):
            max_mb = None
        return {"file_max_size_mb": max_mb if max_mb and max_mb > 0 else None, "retrieval": not bool(bypass)}
