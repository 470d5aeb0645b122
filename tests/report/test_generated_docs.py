"""A document may hold several generated sections, each filled by the command its key names."""

from __future__ import annotations

import pytest

from fairmedia.report import generated_docs


def test_each_section_gets_its_own_commands_output(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("intro\n<!-- generated: methods — old -->\nstale\n<!-- end generated -->\nmiddle\n"
                   "<!-- generated: hparams -->\n<!-- end generated -->\nend\n")
    commands = {"methods": ["methods"], "hparams": ["methods", "--hparams"]}
    out = generated_docs.regenerate(doc, commands)
    first = out.split("<!-- generated: methods — old -->\n", 1)[1].split("<!-- end generated -->")[0]
    second = out.split("<!-- generated: hparams -->\n", 1)[1].split("<!-- end generated -->")[0]
    assert first == generated_docs.generated_text(["methods"]) and "stale" not in out
    assert second == generated_docs.generated_text(["methods", "--hparams"])
    assert "cfair" in second and "μ" in second  # one row per hyperparameter, with the symbol
    assert out.startswith("intro\n") and "\nmiddle\n" in out and out.endswith("end\n")


@pytest.mark.parametrize("body", [
    "<!-- generated: methods -->\n<!-- end generated -->\n",  # a key without its section
    "<!-- generated: methods -->\n<!-- end generated -->\n<!-- generated: other -->\n"
    "<!-- end generated -->\n<!-- generated: hparams -->\n<!-- end generated -->\n",  # unknown key
])
def test_sections_and_keys_must_match(tmp_path, body):
    doc = tmp_path / "d.md"
    doc.write_text(body)
    with pytest.raises(SystemExit, match="do not match"):
        generated_docs.regenerate(doc, {"methods": ["methods"], "hparams": ["methods", "--hparams"]})
