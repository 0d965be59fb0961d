"""One list of content fields: every model and value that carries content agrees with it.

`email_fsm.email.CONTENT_FIELDS` (the fields of `Content`, in GWS order) is the list the
renderers and the scenario codec loop over; the typed declarations that must spell the
fields out (the commands, the request and scenario models, the GWS message model) are
checked against it here, so a content field added in one place and not the others fails.
"""

from __future__ import annotations

from dataclasses import fields

from pydantic import BaseModel

from email_fsm import Arrive, Content, EmailFields
from email_fsm.email import CONTENT_FIELDS, gws_attribute, gws_name
from email_fsm.messages import GwsEmail
from email_fsm.requests import _ArriveEmail, _EmailObject


def _aliases(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def test_the_list_is_the_fields_of_content_with_their_gws_names() -> None:
    assert tuple(f.name for f in fields(Content)) == CONTENT_FIELDS
    assert [gws_name(name) for name in CONTENT_FIELDS] == [
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "body",
        "bodyAsPlainText",
        "mime",
        "contactId",
        "parentId",
        "receivedDate",
    ]


def test_the_gws_email_object_has_every_content_field_in_order() -> None:
    names = _aliases(GwsEmail)
    content = [gws_name(name) for name in CONTENT_FIELDS]
    assert names == [
        "id",
        "state",
        "capabilities",
        "uri",
        *content,
        "comment",
        "userData",
        "attachments",
        "revelantResponseTemplateGroups",
        "emailType",
        "assignedTo",
        "suggestedQueueUris",
    ]
    assert all(
        hasattr(GwsEmail, gws_attribute(n)) or gws_attribute(n) in GwsEmail.model_fields
        for n in CONTENT_FIELDS
    )


def test_what_an_agent_saves_is_content_and_the_email_object_names_it_so() -> None:
    saved = list(EmailFields.__struct_fields__)
    assert set(saved) <= set(CONTENT_FIELDS)
    assert _aliases(_EmailObject) == [gws_name(name) for name in saved]


def test_an_arriving_email_carries_content_but_no_bcc_or_parent() -> None:
    carried = [name for name in Arrive.__struct_fields__ if name in CONTENT_FIELDS]
    assert carried == [n for n in CONTENT_FIELDS if n not in ("bcc", "parent_id")]
    in_file = [n for n in carried if n != "received_date"]  # receivedDate sits on the step
    assert _aliases(_ArriveEmail) == [*(gws_name(n) for n in in_file), "userData"]
