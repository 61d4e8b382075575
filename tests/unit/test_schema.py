"""The survey schema: exact question texts, stable codes, normalisation."""

from __future__ import annotations

from hubdash import schema


def test_twenty_five_questions_in_order_with_unique_codes() -> None:
    assert [q.number for q in schema.QUESTIONS] == list(range(1, 26))
    assert len({q.code for q in schema.QUESTIONS}) == 25


def test_key_texts_and_labels_are_exactly_the_survey() -> None:
    q6 = schema.QUESTION_BY_NUMBER[6]
    assert q6.text == "Which format most accurately reflects the way the service or intervention is delivered?"
    assert q6.labels[3] == "In small groups (up to six people)"
    assert schema.question("target_level").labels == [
        "Universal - available to all families",
        "Targeted selective - families at increased risk",
        "Targeted indicated - families with an identified need",
    ]
    assert [o.code for o in schema.SERVICE_AREAS] == ["infant_feeding", "parenting", "hle", "perinatal_mh"]
    assert schema.question("age_groups").labels[0] == "Pre-birth"
    assert schema.question("age_groups").labels[-1] == "18-25 years"
    assert schema.question("groups").labels[-1] == "None - not specifically adapted"


def test_personal_fields_are_marked() -> None:
    assert schema.PERSONAL_FIELDS == ("contact_name", "contact_email")


def test_code_of_matches_labels_loosely() -> None:
    q = schema.question("sector")
    assert q.code_of("  voluntary AND community sector ") == "vcs"
    assert q.code_of("NHS or health") == "nhs"
    assert q.code_of("Health") is None


def test_normalise_ignores_case_space_punctuation_and_accents() -> None:
    assert schema.normalise("6. Which FORMAT  most…") == "6whichformatmost"
    assert schema.normalise("Café") == schema.normalise("cafe")


def test_filters_validate_untrusted_values() -> None:
    f = schema.Filters(area="parenting'; drop", level="universal", kind="nope").validated()
    assert f == schema.Filters(area=None, level="universal", kind=None)
    assert schema.Filters(area="hle").describe().startswith("Home learning environment")
