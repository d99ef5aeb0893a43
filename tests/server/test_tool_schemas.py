"""The portable input-schema form on argument shapes the catalogue does not have yet (the catalogue itself is
checked through real client converters in `test_schema_portability.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from trackagoat_mcp.server.tool_schemas import portable_input_schema


def arguments_schema(**fields: Any) -> dict[str, Any]:
    """pydantic's JSON schema of a tool taking `fields`, as the SDK builds it."""
    schema: dict[str, Any] = create_model("Arguments", **fields).model_json_schema()
    return schema


def test_an_optional_argument_defaulting_to_null_is_published_as_its_plain_type_outside_required():
    schema = portable_input_schema(
        arguments_schema(
            count=(int | None, Field(None, ge=1, description="How many.")),
            mode=(Literal["a", "b"] | None, None),
            name=(str, ...),
        )
    )

    assert schema["properties"]["count"] == {"type": "integer", "minimum": 1, "description": "How many."}
    assert schema["properties"]["mode"] == {"type": "string", "enum": ["a", "b"]}
    assert schema["required"] == ["name"]


def test_null_stays_a_branch_of_its_own_where_it_means_more_than_leaving_the_argument_out():
    schema = portable_input_schema(
        arguments_schema(
            clears=(str | None, Field(..., description="null clears it.")),
            active=(bool | None, Field(True, description="null = all.")),
        )
    )

    assert schema["properties"]["clears"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "null clears it.",
    }
    assert schema["properties"]["active"]["anyOf"] == [{"type": "boolean"}, {"type": "null"}]
    assert schema["properties"]["active"]["default"] is True


def test_a_choice_that_includes_null_never_puts_null_inside_enum():
    schema = portable_input_schema(
        arguments_schema(optional=(Literal["a", "b", None], None), needed=(Literal["a", None], ...))
    )

    assert schema["properties"]["optional"] == {"enum": ["a", "b"], "type": "string"}
    assert schema["properties"]["needed"] == {"anyOf": [{"enum": ["a"], "type": "string"}, {"type": "null"}]}


def test_a_union_of_several_types_loses_only_its_null_branch():
    schema = portable_input_schema(arguments_schema(value=(int | str | None, None)))

    assert schema["properties"]["value"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_models_are_inlined_where_they_are_used_and_a_property_named_title_is_kept():
    class Member(BaseModel):
        """A member."""

        title: str
        note: str | None = None

    schema = portable_input_schema(arguments_schema(members=(list[Member], ...), lead=(Member | None, None)))

    member = {
        "description": "A member.",
        "properties": {"title": {"type": "string"}, "note": {"type": "string"}},
        "required": ["title"],
        "type": "object",
    }
    assert schema["properties"]["members"] == {"items": member, "type": "array"}
    assert schema["properties"]["lead"] == member
    assert "$defs" not in schema


def test_a_recursive_model_keeps_the_reference_it_cannot_inline_and_its_definition():
    class Node(BaseModel):
        children: list[Node] = []

    schema = portable_input_schema(arguments_schema(tree=(Node, ...)))

    assert schema["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(schema["$defs"]) == {"Node"}
