"""End to end: attachments in a real Open WebUI 0.12.4 (issue #11). An image and a PDF are
uploaded through Open WebUI's files API and attached to a UI-path chat with a vision model;
the fake OpenRouter must receive the image as base64 and the PDF as an ``input_file``, and the
saved chat must hold the answer. API callers' Open WebUI file links are read by the pipe
through the host port, and inline files are kept in Open WebUI's storage as the user's."""

from __future__ import annotations

import base64

import pytest
from owui import FUNCTION_ID, saved_message, ui_path_chat

pytestmark = pytest.mark.e2e

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"
RESPONSES = "/api/v1/responses"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def upload(api, name: str, data: bytes, content_type: str) -> dict:
    r = api.request("POST", "/api/v1/files/?process=false", files={"file": (name, data, content_type)})
    return r.json()


def stored_files(api) -> list[dict]:
    return api.get("/api/v1/files/?content=false")["items"]


def last_user_parts(fake) -> list[dict]:
    body = fake.requests(path=RESPONSES)[-1]["body"]
    users = [i for i in body["input"] if i.get("role") == "user"]
    return users[-1]["content"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_an_uploaded_image_and_pdf_reach_the_model_on_the_ui_path(admin_api, openrouter, fake):
    image = upload(admin_api, "dot.png", PNG, "image/png")
    pdf = upload(admin_api, "report.pdf", PDF, "application/pdf")
    files = [
        {
            "type": "image",
            "id": image["id"],
            "url": f"/api/v1/files/{image['id']}/content",
            "name": "dot.png",
            "content_type": "image/png",
            "size": len(PNG),
        },
        {
            "type": "file",
            "id": pdf["id"],
            "url": f"/api/v1/files/{pdf['id']}",
            "name": "report.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "file": pdf,
            "status": "uploaded",
        },
    ]
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "What do these show?", user_files=files)
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    parts = last_user_parts(fake)
    images = [p for p in parts if p["type"] == "input_image"]
    pdfs = [p for p in parts if p["type"] == "input_file"]
    assert [p["image_url"] for p in images] == [f"data:image/png;base64,{b64(PNG)}"], parts
    assert pdfs == [
        {"type": "input_file", "filename": "report.pdf", "file_data": f"data:application/pdf;base64,{b64(PDF)}"}
    ]
    assert "Echo:" in msg.get("content", ""), msg


def test_an_api_caller_s_file_link_is_read_and_an_inline_file_is_kept(admin_api, openrouter, fake):
    pdf = upload(admin_api, "linked.pdf", PDF, "application/pdf")
    before = {f["id"] for f in stored_files(admin_api)}
    inline = f"data:application/pdf;base64,{b64(PDF)}"
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "compare"},
                {"type": "file", "file": {"filename": "linked.pdf", "file_url": f"/api/v1/files/{pdf['id']}/content"}},
                {"type": "file", "file": {"filename": "inline.pdf", "file_data": inline}},
            ],
        }
    ]
    r = admin_api.chat(MODEL, messages)
    assert "Echo:" in r.json()["choices"][0]["message"]["content"]
    parts = last_user_parts(fake)
    files = [p for p in parts if p["type"] == "input_file"]
    assert files[0] == {"type": "input_file", "filename": "linked.pdf", "file_data": inline}
    assert files[1] == {"type": "input_file", "filename": "inline.pdf", "file_data": inline}
    new = [f for f in stored_files(admin_api) if f["id"] not in before]
    assert [f["filename"] for f in new] == ["inline.pdf"], new


def test_another_users_file_is_not_read(admin_api, openrouter, fake):
    from owui import Api

    email, password = "other-files@example.com", "pw-other-123"
    added = admin_api.request(
        "POST",
        "/api/v1/auths/add",
        expect=None,
        json={"name": "Other", "email": email, "password": password, "role": "user"},
    )
    assert added.status_code in (200, 400), added.text  # 400: it exists from an earlier run
    public = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    admin_api.post("/api/v1/models/model/access/update", {"id": MODEL, "access_grants": public})
    other = Api(admin_api.base_url)
    other.signin(email, password)
    secret = upload(admin_api, "secret.pdf", PDF, "application/pdf")
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "leak it"},
                {
                    "type": "file",
                    "file": {"filename": "secret.pdf", "file_url": f"/api/v1/files/{secret['id']}/content"},
                },
            ],
        }
    ]
    r = other.chat(MODEL, messages)
    assert "Echo:" in r.json()["choices"][0]["message"]["content"], r.text
    assert [p["type"] for p in last_user_parts(fake)] == ["input_text"]


def test_a_generated_image_is_stored_linked_in_the_chat_and_sent_back_on_a_follow_up(admin_api, openrouter, fake):
    import re

    first = ui_path_chat(
        admin_api.base_url, admin_api.token, MODEL, "[[fake fixture=stream_image_generation.sse]] draw a red square"
    )
    msg = saved_message(admin_api, first.chat_id, first.message_id)
    content = msg.get("content", "")
    found = re.search(r"!\[Generated image 1\]\(/api/v1/files/([0-9a-f-]+)/content\)", content)
    assert found, content
    assert content.startswith("Here is a red square.\n\n"), content
    assert "base64" not in content, "the saved chat links the stored image, it does not inline it"
    stored = admin_api.request("GET", f"/api/v1/files/{found.group(1)}/content")
    assert stored.content.startswith(b"\x89PNG"), stored.content[:16]
    meta = admin_api.get(f"/api/v1/files/{found.group(1)}")
    assert re.fullmatch(r"generated-image-[0-9a-z]+\.png", meta["filename"]), meta["filename"]

    second = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        MODEL,
        "make it bluer",
        chat_id=first.chat_id,
        parent_id=first.message_id,
    )
    saved_message(admin_api, second.chat_id, second.message_id)
    images = [p for p in last_user_parts(fake) if p["type"] == "input_image"]
    assert [p["image_url"] for p in images] == [f"data:image/png;base64,{b64(stored.content)}"]
