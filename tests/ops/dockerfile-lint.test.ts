// The shipped Dockerfile passes a Dockerfile linter with every optional check
// raised to an error (CI also runs hadolint on it; hadolint does not install
// from npm, dockerfile-utils does), and the same linter, set up the same way,
// finds each defect in a table of known-bad Dockerfiles, so this test can fail.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ValidationSeverity, type ValidatorSettings, validate } from "dockerfile-utils";

const dockerfile = readFileSync(join(import.meta.dir, "..", "..", "Dockerfile"), "utf8");

// Everything the linter can report; by default some of these are ignored or only warned about.
const strict: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/** Every problem, of any severity, as "line N: message" (1-based, as an editor shows it). */
const problems = (text: string) => validate(text, strict).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

test("the shipped Dockerfile has no problem", () => {
  expect(problems(dockerfile)).toEqual([]);
});

describe("the linter finds the defect in a known-bad Dockerfile", () => {
  const ok = "FROM debian:12-slim\n";
  test.each([
    ["a relative WORKDIR", `${ok}WORKDIR app\n`, /WORKDIR paths should be absolute/],
    ["an instruction Docker does not know", `${ok}COPPY . /src\n`, /Unknown instruction/],
    ["a lower-case instruction", `${ok}run true\n`, /uppercase/],
    ["two CMDs (only the last counts)", `${ok}CMD ["a"]\nCMD ["b"]\n`, /CMD/],
    ["a HEALTHCHECK interval without a unit", `${ok}HEALTHCHECK --interval=5 CMD true\n`, /missing unit/],
    ["JSON in single quotes (run by the shell)", `${ok}ENTRYPOINT ['/bin/app']\n`, /double quotes/],
    ["MAINTAINER (deprecated)", `${ok}MAINTAINER someone\n`, /deprecated/],
    ["a base named by an ARG never declared", "FROM $BASE\n", /base name \(\$BASE\) should not be blank/],
    ["a stop signal that is no signal", `${ok}STOPSIGNAL TERM\n`, /Invalid signal: TERM/],
  ])("%s", (_defect, text, message) => {
    expect(problems(text)).toEqual([expect.stringMatching(message)]);
  });
});
