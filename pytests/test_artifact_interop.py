"""Artifact payloads: the Rust codec and the reference's Python stack read each other's rows.

The reference pipe encrypts stored reasoning and tool items with ``cryptography.fernet``
(key = urlsafe_b64(sha256(passphrase))) over a 1-byte header + body, where the body is
compact JSON, LZ4-frame compressed (header 0x01) when that is smaller, else plain (0x00).
These tests drive the Rust side through the test-only example ``examples/artifact_codec.rs``.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sysconfig
from datetime import UTC, datetime
from pathlib import Path

import pytest

fernet_mod = pytest.importorskip("cryptography.fernet", reason="cryptography is not installed")
lz4_frame = pytest.importorskip("lz4.frame", reason="python-lz4 is not installed")

REPO_ROOT = Path(__file__).resolve().parents[1]
CARGO = shutil.which("cargo")
pytestmark = pytest.mark.skipif(
    CARGO is None, reason="cargo is not on PATH, so the Rust codec example cannot be built"
)

PASSPHRASE = "correct horse battery staple"
PIPE_ID = "open_webui_openrouter_pipe"


def _cargo_env():
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    if libdir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libdir, env.get("LD_LIBRARY_PATH")) if p)
    return env


def rust(requests):
    """Runs the example once with a list of requests; returns the list of responses."""
    proc = subprocess.run(
        [CARGO, "run", "--quiet", "--example", "artifact_codec"],
        cwd=REPO_ROOT,
        env=_cargo_env(),
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


# ---- the reference's Python encoding, written from its description


def fernet(passphrase=PASSPHRASE):
    key = base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode("utf-8")).digest())
    return fernet_mod.Fernet(key)


def py_encrypt(item, passphrase=PASSPHRASE, compress=True):
    body = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    plain = b"\x00" + body
    if compress:
        framed = lz4_frame.compress(body)
        if len(framed) < len(body):
            plain = b"\x01" + framed
    return {"ciphertext": fernet(passphrase).encrypt(plain).decode("ascii"), "enc_v": 1}


def py_decrypt(token, passphrase=PASSPHRASE):
    plain = fernet(passphrase).decrypt(token.encode("ascii"))
    header, body = plain[0], plain[1:]
    if header == 1:
        body = lz4_frame.decompress(body)
    else:
        assert header == 0, header
    return header, json.loads(body.decode("utf-8"))


def py_table_name(pipe_id, key):
    fragment = re.sub(r"[^a-z0-9_]", "_", pipe_id.lower()).strip("_") or "pipe"
    fragment = fragment[:62].rstrip("_") or "pipe"
    digest = hashlib.sha256((key.strip() + pipe_id).encode("utf-8")).hexdigest()
    return f"response_items_{fragment}_{digest[:8]}"


ITEMS = [
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Plan ✓ — naïve approach"}],
        "content": [],
        "encrypted_content": "gAAAAB" + "opaque" * 4,
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "weather",
        "arguments": '{"city":"Zürich"}',
        "status": "completed",
    },
    {
        "type": "function_call_output",
        "id": "fco_1",
        "call_id": "call_1",
        "output": "row: 21 °C, sunny\n" * 200,
        "status": "completed",
    },
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"query": "q"}},
    {"type": "custom", "nested": {"list": [1, 2.5, None, True], "emoji": "😀", "ctl": "\u0001\t"}},
]


# ---- tests


def test_rust_encrypted_payloads_decrypt_with_python_fernet_and_lz4():
    requests = [{"op": "encode", "key": PASSPHRASE, "item": item} for item in ITEMS]
    requests += [{"op": "encode", "key": PASSPHRASE, "item": ITEMS[2], "compression": False}]
    responses = rust(requests)
    headers = []
    for item, resp in zip(ITEMS + [ITEMS[2]], responses, strict=True):
        assert resp["is_encrypted"] is True
        envelope = json.loads(resp["payload"])
        assert envelope["enc_v"] == 1
        header, decoded = py_decrypt(envelope["ciphertext"])
        assert decoded == item
        headers.append(header)
    # The long repetitive tool output is compressed; a small item (LZ4 would not be
    # smaller) and the compression-off request are not.
    assert (headers[2], headers[3], headers[5]) == (1, 0, 0)


def test_python_encrypted_payloads_decode_in_rust():
    requests = []
    for item in ITEMS:
        for compress in (True, False):
            stored = json.dumps(py_encrypt(item, compress=compress))
            requests.append({"op": "decode", "key": PASSPHRASE, "stored": stored})
    responses = rust(requests)
    expected = [item for item in ITEMS for _ in (0, 1)]
    assert [r.get("item") for r in responses] == expected


def test_wrong_key_and_damaged_payloads_are_errors_not_crashes():
    stored = json.dumps(py_encrypt(ITEMS[0]))
    legacy = json.dumps({"ciphertext": fernet().encrypt(b'{"type":"reasoning"}').decode(), "enc_v": 1})
    responses = rust(
        [
            {"op": "decode", "key": "another passphrase", "stored": stored},
            {"op": "decode", "key": "", "stored": stored},
            {"op": "decode", "key": PASSPHRASE, "stored": '{"ciphertext": "gAAAAAgarbage"}'},
            {"op": "decode", "key": PASSPHRASE, "stored": legacy},
            {"op": "decode", "key": PASSPHRASE, "stored": "not json"},
        ]
    )
    assert all("error" in r and "item" not in r for r in responses), responses
    assert "invalid token" in responses[0]["error"]
    assert "flag" in responses[3]["error"]


def test_encryption_rules_match_the_reference():
    reasoning, call = ITEMS[0], ITEMS[1]
    responses = rust(
        [
            {"op": "encode", "key": "", "item": reasoning},
            {"op": "encode", "key": PASSPHRASE, "encrypt_all": False, "item": call},
            {"op": "encode", "key": PASSPHRASE, "encrypt_all": False, "item": reasoning},
        ]
    )
    # No key: the item itself is the column value.
    assert responses[0]["is_encrypted"] is False
    assert json.loads(responses[0]["payload"]) == reasoning
    # ENCRYPT_ALL off: only reasoning is encrypted.
    assert responses[1]["is_encrypted"] is False
    assert json.loads(responses[1]["payload"]) == call
    assert responses[2]["is_encrypted"] is True
    assert py_decrypt(json.loads(responses[2]["payload"])["ciphertext"])[1] == reasoning


def test_table_names_match_the_reference_recipe():
    cases = [
        (PIPE_ID, ""),
        (PIPE_ID, PASSPHRASE),
        ("Model-Name!@#", "k"),
        ("__", " spaced key "),
        ("x" * 80, ""),
    ]
    responses = rust([{"op": "table_name", "pipe_id": p, "key": k} for p, k in cases])
    assert [r["table"] for r in responses] == [py_table_name(p, k) for p, k in cases]


def test_sqlite_rows_written_by_rust_are_readable_by_python_and_back(tmp_path):
    db = tmp_path / "artifacts.db"
    base = {"path": str(db), "pipe_id": PIPE_ID, "key": PASSPHRASE}
    rows = [
        {"chat_id": "chat-1", "message_id": "msg-1", "model_id": "pipe.m", "item": item} for item in ITEMS
    ]
    (written,) = rust([{**base, "op": "persist", "rows": rows}])
    table = written["table"]
    assert table == py_table_name(PIPE_ID, PASSPHRASE)

    # Python (a separate process from the Rust writer) reads the rows as the reference would.
    conn = sqlite3.connect(db)
    try:
        found = {
            row[0]: row[1:]
            for row in conn.execute(
                f"SELECT id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at "
                f'FROM "{table}"'
            )
        }
        for row_id, item in zip(written["ids"], ITEMS, strict=True):
            chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at = found[row_id]
            assert (chat_id, message_id, model_id, item_type) == ("chat-1", "msg-1", "pipe.m", item["type"])
            assert is_encrypted == 1
            assert py_decrypt(json.loads(payload)["ciphertext"])[1] == item
            # SQLAlchemy's SQLite DateTime format (naive UTC with microseconds).
            datetime.strptime(created_at, "%Y-%m-%d %H:%M:%S.%f")

        # A row written the reference's way is fetched by Rust.
        extra = {
            "type": "reasoning",
            "id": "rs_py",
            "summary": [],
            "content": [],
            "encrypted_content": "x" * 900,
        }
        conn.execute(
            f'INSERT INTO "{table}" (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, '
            f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "01J2VVZBDQTP1ZQJ8DSN",
                "chat-1",
                "msg-2",
                None,
                "reasoning",
                json.dumps(py_encrypt(extra)),
                1,
                datetime.now(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
            ),
        )
        conn.commit()
    finally:
        conn.close()

    (fetched,) = rust(
        [{**base, "op": "fetch", "chat_id": "chat-1", "ids": written["ids"] + ["01J2VVZBDQTP1ZQJ8DSN"]}]
    )
    assert fetched["undecodable"] == []
    assert fetched["items"]["01J2VVZBDQTP1ZQJ8DSN"] == extra
    for row_id, item in zip(written["ids"], ITEMS, strict=True):
        assert fetched["items"][row_id] == item
