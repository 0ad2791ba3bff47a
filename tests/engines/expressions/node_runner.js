// Evaluates shared_cases.json with json-logic-js and Loom's browser operators; prints the
// results as JSON, one per case, in order. Used by test_expr_browser_agreement.py.
"use strict";
var fs = require("fs");
var path = require("path");
var jsonLogic = require("json-logic-js");
var loomLogic = require(path.join(__dirname, "../../../engines/expressions/static/loom-logic.js"));

loomLogic.install(jsonLogic);
var cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
var results = cases.map(function (item) {
  loomLogic.setEnv(item.env || {});
  try {
    var value = jsonLogic.apply(item.rule, item.data);
    return { value: value === undefined ? null : value };
  } catch (error) {
    return { error: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
