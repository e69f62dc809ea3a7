#!/usr/bin/env python3
"""stepline-notebook (notebook/stepline-notebook) on real notebooks: papermill + ipykernel.

Usage: stepline_notebook_test.py PATH/TO/stepline-notebook
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import nbformat

RUNNER = ""


def code_cell(source, tags=()):
    cell = nbformat.v4.new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# test")] + cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


PARAMS_CELL = code_cell("horizon = '1d'\nepochs = 1\ncountries = []\nrate = 0.0", ["parameters"])
REPORT_CELL = code_cell(
    "import stepline\n"
    "print(type(epochs).__name__, type(countries).__name__, type(rate).__name__)\n"
    "stepline.output('horizon', horizon)\n"
    "stepline.output('score', epochs * rate)\n"
    "stepline.output('countries', countries)")


class SteplineNotebookTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="stepline-notebook-test-")
        self.addCleanup(self.dir.cleanup)
        self.input = os.path.join(self.dir.name, "in.ipynb")
        self.output = os.path.join(self.dir.name, "out", "executed.ipynb")
        self.log = os.path.join(self.dir.name, "termination-log")

    def run_runner(self, *extra):
        cmd = [RUNNER, "--notebook", self.input, "--output", self.output,
               "--termination-log", self.log, *extra]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        with open(self.log, encoding="utf-8") as f:
            return done.returncode, f.read(), done.stderr

    def executed(self):
        nb = nbformat.read(self.output, as_version=4)
        nbformat.validate(nb)
        return nb

    def test_parameters_are_injected_typed_and_outputs_published(self):
        write_notebook(self.input, [PARAMS_CELL, REPORT_CELL])
        params = {"horizon": "1w", "epochs": 3, "countries": ["fr", "de"], "rate": 0.5}
        code, log, err = self.run_runner("--parameters", json.dumps(params), "--kernel", "python3")
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(log), {"horizon": "1w", "score": "1.5",
                                           "countries": '["fr", "de"]'})
        nb = self.executed()
        self.assertEqual(nb.cells[1].metadata["tags"], ["parameters"])
        injected = nb.cells[2]
        self.assertEqual(injected.metadata["tags"], ["injected-parameters"])
        self.assertIn('horizon = "1w"', injected.source)
        self.assertIn("epochs = 3", injected.source)
        self.assertIn('countries = ["fr", "de"]', injected.source)
        printed = "".join(o.get("text", "") for o in nb.cells[3].outputs)
        self.assertEqual(printed.strip(), "int list float")

    def test_a_raising_cell_names_the_exception_and_keeps_the_executed_copy(self):
        write_notebook(self.input, [PARAMS_CELL, code_cell("x = 1"), code_cell("x / (epochs - 1)")])
        code, log, _ = self.run_runner("--parameters", '{"epochs": 1}')
        self.assertEqual(code, 1)
        # cell 5 of the executed copy: markdown, parameters, injected-parameters, x = 1, this one
        self.assertEqual(log, "ZeroDivisionError: division by zero in cell 5 (In [4])")
        # papermill adds a markdown cell pointing at the failure; the traceback stays in its cell
        errors = [o for c in self.executed().cells for o in c.get("outputs", [])
                  if o["output_type"] == "error"]
        self.assertEqual([e["ename"] for e in errors], ["ZeroDivisionError"])
        self.assertTrue(errors[0]["traceback"])

    def test_input_that_cannot_run(self):
        cases = [
            ("missing notebook", None, [], "stepline-notebook: FileNotFoundError"),
            ("parameters not an object", [PARAMS_CELL], ["--parameters", "[1]"],
             "stepline-notebook: --parameters is not a JSON object"),
            ("parameters not JSON", [PARAMS_CELL], ["--parameters", "{"],
             "stepline-notebook: JSONDecodeError"),
            ("unknown kernel", [PARAMS_CELL], ["--kernel", "no-such-kernel"],
             "stepline-notebook: NoSuchKernel"),
        ]
        for name, cells, extra, want in cases:
            with self.subTest(name):
                if os.path.exists(self.input):
                    os.remove(self.input)
                if cells is not None:
                    write_notebook(self.input, cells)
                code, log, _ = self.run_runner(*extra)
                self.assertEqual(code, 2)
                self.assertTrue(log.startswith(want), log)

    def test_outputs_over_the_termination_message_limit_fail(self):
        write_notebook(self.input, [code_cell("import stepline\nstepline.output('big', 'x' * 5000)")])
        code, log, _ = self.run_runner()
        self.assertEqual(code, 2)
        self.assertIn("exceed 4096 bytes", log)


if __name__ == "__main__":
    RUNNER = sys.argv.pop(1)
    unittest.main(verbosity=2)
