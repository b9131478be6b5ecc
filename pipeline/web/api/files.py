"""/mailings/{id}/files: the press kit of a press release (list, add, remove).

The file is the request body as it is (any type), its name and rights in the query:
``POST /mailings/7/files?name=Pressefoto.jpg&credit=…&licence=…&alt=…``. The rules
(only a press release, only while editable, a broken image refused, safe names) are the
workflow's; the download links are the web app's ``/press/{id}/files/{name}``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from pipeline.access import Action
from pipeline.models import PressFile
from pipeline.web.api import common as c
from pipeline.web.api.auth import actor
from pipeline.web.api.errors import invalid
from pipeline.web.api.spec import INTEGER, SCHEMAS, STRING, Param, array, obj, ref, route

TAG = "mailings"
ADD_ENDPOINT = f"api.{TAG}_add_file"

SCHEMAS["PressFile"] = obj(
    ("name", "content_type", "size", "sha256", "url"),
    name=STRING,
    content_type=STRING,
    size=INTEGER,
    sha256=STRING,
    credit=STRING,
    licence=STRING,
    alt_text=STRING,
    width={"type": ["integer", "null"]},
    height={"type": ["integer", "null"]},
    preview=obj(width=INTEGER, height=INTEGER, type=STRING, url=STRING),
    url=STRING,
)


def file_json(mailing_id: int, file: PressFile) -> dict[str, Any]:
    base = c.flow().settings.web.base_url
    url = f"{base}/press/{mailing_id}/files/{file.name}"
    return {
        "name": file.name,
        "content_type": file.content_type,
        "size": file.size,
        "sha256": file.sha256,
        "credit": file.credit,
        "licence": file.licence,
        "alt_text": file.alt_text,
        "width": file.width,
        "height": file.height,
        "preview": (
            {
                "width": file.preview_width,
                "height": file.preview_height,
                "type": file.preview_type,
                "url": url + "/preview",
            }
            if file.preview_sha256
            else None
        ),
        "url": url,
    }


@route(
    "GET",
    "/mailings/{mailing_id}/files",
    "List the press kit",
    tag=TAG,
    action=Action.VIEW,
    returns=obj(("data",), data=array(ref("PressFile"))),
    description="The files of a press release, by name.",
)
def list_files(mailing_id: int) -> Response:
    c.mailing_or_404(mailing_id)
    return jsonify(data=[file_json(mailing_id, f) for f in c.flow().files(mailing_id)])


@route(
    "POST",
    "/mailings/{mailing_id}/files",
    "Add a file to the press kit",
    tag=TAG,
    action=Action.EDIT,
    query=(
        Param("name", STRING, "The file's name (made safe for its link)."),
        Param("credit", STRING, "Who made it (a photo's credit)."),
        Param("licence", STRING, "How it may be used."),
        Param("alt", STRING, "What an image shows (its alt text in the mail)."),
    ),
    body={"type": "string", "format": "binary"},
    body_type="application/octet-stream",
    status=201,
    returns=obj(("data",), data=ref("PressFile")),
    description="The body is the file. Only while the release is a draft, approved or "
    "scheduled; it becomes a draft again. An image gets a preview for the mail, a broken "
    "one is refused (422, field `file`).",
)
def add_file(mailing_id: int) -> tuple[Response, int]:
    c.mailing_or_404(mailing_id)
    name = (request.args.get("name") or "").strip()
    if not name:
        raise invalid("name is required: the file's name", "name")
    data = request.get_data(cache=False)
    added = c.flow().add_file(
        mailing_id,
        by=actor(),
        data=data,
        name=name,
        credit=request.args.get("credit", ""),
        licence=request.args.get("licence", ""),
        alt_text=request.args.get("alt", ""),
    )
    return jsonify(data=file_json(mailing_id, added)), 201


@route(
    "DELETE",
    "/mailings/{mailing_id}/files/{name}",
    "Remove a file from the press kit",
    tag=TAG,
    action=Action.EDIT,
    returns=obj(("data",), data=ref("PressFile")),
)
def remove_file(mailing_id: int, name: str) -> Response:
    c.mailing_or_404(mailing_id)
    removed = c.flow().remove_file(mailing_id, name, by=actor())
    return jsonify(data=file_json(mailing_id, removed))
