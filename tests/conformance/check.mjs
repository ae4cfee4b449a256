// The conformance corpus through ajv (JSON Schema 2020-12, strict mode, formats asserted): every document in valid/
// must pass envelope.schema.json and every document in invalid/ must fail it, the verdicts the C# reader gives too
// (tests/Immune.Core.Tests/ConformanceTests.cs). Any strict-mode warning fails the check.
//   cd tests/conformance && npm ci && node check.mjs
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const schemas = join(here, "..", "..", "src", "Immune.Abstractions", "Schemas");
const warnings = [];
const ajv = new Ajv2020({
  strict: true,
  allErrors: true,
  logger: { log: () => {}, warn: (...m) => warnings.push(m.join(" ")), error: (...m) => warnings.push(m.join(" ")) },
});
addFormats(ajv);
for (const file of readdirSync(schemas).filter((f) => f.endsWith(".schema.json")).sort()) {
  ajv.addSchema(JSON.parse(readFileSync(join(schemas, file), "utf8")));
}

const validate = ajv.getSchema("https://immune.invalid/schemas/1.0/envelope.schema.json");
let checked = 0;
const wrong = [];
for (const expected of ["valid", "invalid"]) {
  for (const file of readdirSync(join(here, expected)).filter((f) => f.endsWith(".json")).sort()) {
    const document = JSON.parse(readFileSync(join(here, expected, file), "utf8"));
    const verdict = validate(document) ? "valid" : "invalid";
    checked++;
    if (verdict !== expected) {
      wrong.push(`${expected}/${file}: ajv says ${verdict}${verdict === "invalid" ? " " + ajv.errorsText(validate.errors) : ""}`);
    }
  }
}

for (const warning of warnings) console.error(`ajv warning: ${warning}`);
for (const line of wrong) console.error(line);
console.log(`conformance (ajv ${JSON.parse(readFileSync(join(here, "node_modules", "ajv", "package.json"), "utf8")).version}): ${checked} documents, ${checked - wrong.length} as expected, ${warnings.length} warning(s)`);
process.exit(wrong.length === 0 && warnings.length === 0 && checked > 0 ? 0 : 1);
