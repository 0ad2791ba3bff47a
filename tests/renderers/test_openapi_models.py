"""Names of an app document's models (renderers/openapi_models.py): from API names only,
never two alike, the same for an entity whatever else the app holds."""

from __future__ import annotations

from typing import Any

from loom.metamodel.app import AppDocument
from loom.renderers.openapi import SHARED_MODELS, app_openapi
from loom.renderers.openapi_models import ModelNames


def app(*names: str) -> AppDocument:
    return AppDocument.model_validate({"app": {"label": "Names"}, "entities": {
        name: {"label": {"en": name}, "fields": {
            "title": {"type": "text"},
            "stage": {"type": "select", "options": [{"value": "a"}, {"value": "b"}]},
            "stage_x": {"type": "select", "options": [{"value": "c"}]}}}
        for name in names}})


def names_of(*entities: str) -> ModelNames:
    return ModelNames(app(*entities), frozenset(SHARED_MODELS))


def schemas(*entities: str) -> dict[str, Any]:
    return app_openapi("names", 1, app(*entities))["components"]["schemas"]


def test_an_entitys_models_say_what_they_are() -> None:
    names = names_of("sales_order")
    assert [names.model("sales_order", use) for use in
            ("read", "create", "update", "page", "bulk", "row")] == [
        "SalesOrder", "SalesOrderCreate", "SalesOrderUpdate", "SalesOrderPage",
        "SalesOrderBulkResult", "SalesOrderRow"]
    assert names.options["sales_order", "stage"] == "SalesOrderStageOption"


def test_names_that_would_meet_others_get_record() -> None:
    names = names_of("contact", "contact_create", "contact_page", "problem", "file",
                     "stage_option")
    assert names.model("contact_create", "read") == "ContactCreateRecord"
    assert names.model("contact_page", "create") == "ContactPageRecordCreate"
    assert names.model("problem", "read") == "ProblemRecord"
    assert names.model("file", "update") == "FileRecordUpdate"
    assert names.model("stage_option", "read") == "StageOptionRecord"
    assert names.model("contact", "create") == "ContactCreate"


def test_no_two_models_share_a_name_or_a_title() -> None:
    found = schemas("contact", "contact_stage", "contact__stage", "contact_stage_x",
                    "delete_impact", "import_report")
    titles = [schema["title"] for schema in found.values()]
    assert len(titles) == len(set(titles)) == len(found)
    assert all(schema["title"] == name for name, schema in found.items())
    # contact_stage and contact__stage would meet: the one named later gets a number
    assert {"ContactStage", "ContactStage2", "ContactStage2Create", "DeleteImpactRecord",
            "ImportReportRecordPage", "ContactStageXOption", "ContactStageXStageXOption"} <= set(
        found)


def test_an_entitys_models_stay_when_others_come() -> None:
    alone = schemas("contact")
    crowded = schemas("contact", "contact_page", "customer", "contact_stage")
    for name, schema in alone.items():
        assert crowded[name] == schema, name
