/*
 * Loom's JSON Logic operators for the browser, on top of json-logic-js.
 *
 * The server (loom.engines.expressions) and the browser give the same answer for the
 * same condition: this file adds Loom's operators under the same names and gives the
 * standard ones Loom's blank rules (an ordering comparison with a blank is false,
 * arithmetic with a blank is blank, min/max skip blanks, substr of a blank is "").
 * Dates are ISO text ("2025-08-12"); datetimes ISO text with a zone.
 *
 * ROUND rounds the shortest decimal text of a number, half away from zero, so the
 * spreadsheet answers hold (ROUND(1.005, 2) = 1.01); SUM skips blanks. Exact decimal
 * arithmetic, TEXT and VALUE are computed on the server only (JavaScript numbers are
 * binary floats); see docs/EXPRESSIONS.md.
 *
 * Browser: load json-logic-js, then this file; it installs itself on window.jsonLogic.
 * Set the environment with loomLogic.setEnv({now, today, timezone, user, prior, changed}).
 * Node: var loomLogic = require("./loom-logic.js"); loomLogic.install(require("json-logic-js")).
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.loomLogic = api;
    if (root.jsonLogic) {
      api.install(root.jsonLogic);
    }
  }
}(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  var DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;
  var UNITS = ["days", "weeks", "months", "years", "hours", "minutes", "seconds"];
  var DAY_MS = 86400000;
  var environment = {};

  function setEnv(env) {
    environment = env || {};
  }

  function env() {
    return typeof environment === "function" ? environment() : environment;
  }

  function zone() {
    return env().timezone || "UTC";
  }

  function isBlank(value) {
    if (value === null || value === undefined || value === "") {
      return true;
    }
    if (Array.isArray(value)) {
      return value.length === 0;
    }
    if (typeof value === "object") {
      return Object.keys(value).length === 0;
    }
    return false;
  }

  function toNumber(value) {
    if (value === null || value === undefined) {
      return null;
    }
    var number = Number(value);
    return isNaN(number) || !isFinite(number) ? null : number;
  }

  // --- dates: "YYYY-MM-DD" text, computed on UTC midnights so no local zone interferes ---

  function localDate(moment) {
    var parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone(), year: "numeric", month: "2-digit", day: "2-digit"
    }).formatToParts(moment);
    var found = {};
    parts.forEach(function (part) { found[part.type] = part.value; });
    return found.year + "-" + found.month + "-" + found.day;
  }

  function toDateText(value) {
    if (typeof value !== "string") {
      return value instanceof Date ? localDate(value) : null;
    }
    if (DATE.test(value)) {
      return value;
    }
    if (DATETIME.test(value)) {
      var hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
      var moment = new Date(hasZone ? value : value + "Z");
      return isNaN(moment.getTime()) ? null : localDate(moment);
    }
    return null;
  }

  function dayNumber(text) {
    var parts = text.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / DAY_MS;
  }

  function fromDayNumber(days) {
    return new Date(days * DAY_MS).toISOString().slice(0, 10);
  }

  function lastDay(year, month) {
    return new Date(Date.UTC(year, month, 0)).getUTCDate();
  }

  function addMonths(text, months) {
    var parts = text.split("-").map(Number);
    var total = parts[0] * 12 + parts[1] - 1 + months;
    var year = Math.floor(total / 12);
    var month = total - year * 12 + 1;
    var last = lastDay(year, month);
    var atEnd = parts[2] === lastDay(parts[0], parts[1]);
    var day = atEnd ? last : Math.min(parts[2], last);
    var pad = function (n, width) { return String(n).padStart(width, "0"); };
    return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2);
  }

  function today() {
    var current = env();
    if (current.today) {
      return current.today;
    }
    return localDate(current.now ? new Date(current.now) : new Date());
  }

  function now() {
    var current = env();
    return current.now ? new Date(current.now).toISOString() : new Date().toISOString();
  }

  function walk(data, path) {
    if (path === null || path === undefined || path === "") {
      return data;
    }
    var parts = String(path).split(".");
    for (var i = 0; i < parts.length; i += 1) {
      if (data === null || data === undefined || typeof data !== "object") {
        return null;
      }
      if (!Object.prototype.hasOwnProperty.call(data, parts[i])) {
        return null;
      }
      data = data[parts[i]];
    }
    return data === undefined ? null : data;
  }

  // --- comparisons and arithmetic with Loom's blank rules ----------------------------------

  function ordered(a, b) {
    if (a === null || a === undefined || b === null || b === undefined) {
      return null;
    }
    if (typeof a === "string" && typeof b === "string") {
      return [a, b];
    }
    var left = toNumber(a);
    var right = toNumber(b);
    return left === null || right === null ? null : [left, right];
  }

  function less(a, b) {
    var pair = ordered(a, b);
    return pair !== null && pair[0] < pair[1];
  }

  function lessOrEqual(a, b) {
    var pair = ordered(a, b);
    return pair !== null && pair[0] <= pair[1];
  }

  function arithmetic(combine) {
    return function () {
      var numbers = [];
      for (var i = 0; i < arguments.length; i += 1) {
        var number = toNumber(arguments[i]);
        if (number === null) {
          return null;
        }
        numbers.push(number);
      }
      var result = combine(numbers);
      if (result === null || isNaN(result) || !isFinite(result)) {
        return null;
      }
      // 15 significant digits: what a double holds exactly, so binary noise
      // (0.1 + 0.2 = 0.30000000000000004) goes and sums read as the server's decimals
      return Number.isInteger(result) ? result : Number(result.toPrecision(15));
    };
  }

  function extreme(pick) {
    return function () {
      var numbers = [];
      for (var i = 0; i < arguments.length; i += 1) {
        if (arguments[i] === null || arguments[i] === undefined) {
          continue;
        }
        var number = toNumber(arguments[i]);
        if (number === null) {
          return null;
        }
        numbers.push(number);
      }
      return numbers.length ? pick.apply(Math, numbers) : null;
    };
  }

  function daysBetween(value, since) {
    if (isBlank(value)) {
      return null;
    }
    var day = toDateText(value);
    if (day === null) {
      return null;
    }
    var difference = dayNumber(today()) - dayNumber(day);
    return since ? difference : -difference;
  }

  function dateAdd(value, amount, unit) {
    unit = String(unit === undefined ? "days" : unit).toLowerCase();
    if (UNITS.indexOf(unit) < 0 && UNITS.indexOf(unit + "s") >= 0) {
      unit += "s";
    }
    if (isBlank(value) || amount === null || amount === undefined) {
      return null;
    }
    var count = toNumber(amount);
    if (count === null || typeof value !== "string" || !DATE.test(value)) {
      return null;
    }
    if (unit === "days" || unit === "weeks") {
      return fromDayNumber(dayNumber(value) + Math.trunc(count) * (unit === "weeks" ? 7 : 1));
    }
    if (unit === "months" || unit === "years") {
      return addMonths(value, Math.trunc(count) * (unit === "years" ? 12 : 1));
    }
    return null;
  }

  function datedif(start, end, unit) {
    var first = toDateText(start);
    var last = toDateText(end);
    if (first === null || last === null || first > last) {
      return null;
    }
    unit = String(unit).toLowerCase();
    if (unit === "d") {
      return dayNumber(last) - dayNumber(first);
    }
    var a = first.split("-").map(Number);
    var b = last.split("-").map(Number);
    var months = (b[0] - a[0]) * 12 + b[1] - a[1] - (b[2] < a[2] ? 1 : 0);
    if (unit === "m") {
      return months;
    }
    if (unit === "y") {
      return Math.floor(months / 12);
    }
    if (unit === "ym") {
      return months % 12;
    }
    return null;
  }

  function datePart(index) {
    return function (value) {
      var day = toDateText(value);
      return day === null ? null : Number(day.split("-")[index]);
    };
  }

  // ROUND on the number's shortest decimal text (what a person typed, or the closest
  // decimal to a float result), so 1.005 rounds up as it does on the server.
  function roundHalfAway(value, places) {
    var number = toNumber(value);
    if (number === null) {
      return null;
    }
    var digits = places === undefined || places === null ? 0 : Math.trunc(Number(places));
    if (isNaN(digits)) {
      return null;
    }
    var text = Math.abs(number).toString();
    if (text.indexOf("e") >= 0) {
      var scale = Math.pow(10, digits);
      return Math.sign(number) * Math.round(Math.abs(number) * scale) / scale;
    }
    var parts = text.split(".");
    var all = parts[0] + (parts[1] || "");
    var keep = parts[0].length + digits;
    if (keep >= all.length) {
      return number;
    }
    var kept = keep > 0 ? BigInt(all.slice(0, keep)) : BigInt(0);
    if (keep >= 0 && all.charAt(keep) >= "5") {
      kept += BigInt(1);
    }
    var rounded = Number(kept.toString() + "e" + (-digits));
    return number < 0 && rounded !== 0 ? -rounded : rounded;
  }

  function sum() {
    var total = 0;
    var items = Array.prototype.concat.apply([], Array.prototype.slice.call(arguments));
    for (var i = 0; i < items.length; i += 1) {
      if (isBlank(items[i])) {
        continue;
      }
      var number = toNumber(items[i]);
      if (number === null) {
        return null;
      }
      total += number;
    }
    return total;
  }

  function textOf(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  var operators = {
    "<": function (a, b, c) {
      return c === undefined ? less(a, b) : less(a, b) && less(b, c);
    },
    "<=": function (a, b, c) {
      return c === undefined ? lessOrEqual(a, b) : lessOrEqual(a, b) && lessOrEqual(b, c);
    },
    ">": function (a, b) { return less(b, a); },
    ">=": function (a, b) { return lessOrEqual(b, a); },
    "+": arithmetic(function (n) { return n.reduce(function (s, x) { return s + x; }, 0); }),
    "*": arithmetic(function (n) {
      return n.length ? n.reduce(function (s, x) { return s * x; }) : null;
    }),
    "-": arithmetic(function (n) { return n.length === 1 ? -n[0] : n[0] - n[1]; }),
    "/": arithmetic(function (n) { return n[1] === 0 ? null : n[0] / n[1]; }),
    "%": arithmetic(function (n) { return n[1] === 0 ? null : n[0] % n[1]; }),
    "round": roundHalfAway,
    "sum": sum,
    "min": extreme(Math.min),
    "max": extreme(Math.max),
    "substr": function (source, start, length) {
      var text = textOf(source);
      var begin = Number(start) || 0;
      if (begin < 0) {
        begin = Math.max(text.length + begin, 0);
      }
      var rest = text.slice(begin);
      if (length === undefined || length === null) {
        return rest;
      }
      var count = Number(length) || 0;
      return count < 0 ? rest.slice(0, Math.max(rest.length + count, 0)) : rest.slice(0, count);
    },
    "today": today,
    "now": now,
    "days_since": function (value) { return daysBetween(value, true); },
    "days_until": function (value) { return daysBetween(value, false); },
    "date_add": dateAdd,
    "add_months": function (value, count) { return dateAdd(value, count, "months"); },
    "datedif": datedif,
    "year": datePart(0),
    "month": datePart(1),
    "day": datePart(2),
    "is_blank": isBlank,
    "blank_value": function (value, fallback) { return isBlank(value) ? fallback : value; },
    "starts_with": function (text, prefix) {
      if (text === null || text === undefined || prefix === null || prefix === undefined) {
        return false;
      }
      return String(text).indexOf(String(prefix)) === 0;
    },
    "len": function (value) {
      return Array.isArray(value) ? value.length : textOf(value).length;
    },
    "upper": function (value) { return value === null ? null : String(value).toUpperCase(); },
    "lower": function (value) { return value === null ? null : String(value).toLowerCase(); },
    "trim": function (value) { return value === null ? null : String(value).trim(); },
    "case": function () {
      var args = Array.prototype.slice.call(arguments);
      for (var i = 1; i + 1 < args.length; i += 2) {
        /* eslint-disable-next-line eqeqeq */
        if (args[0] == args[i] && !(args[0] === null) === !(args[i] === null)) {
          return args[i + 1];
        }
      }
      return args.length % 2 === 0 ? args[args.length - 1] : null;
    },
    "changed": function () {
      var changed = env().changed || [];
      for (var i = 0; i < arguments.length; i += 1) {
        var names = Array.isArray(arguments[i]) ? arguments[i] : [arguments[i]];
        for (var j = 0; j < names.length; j += 1) {
          if (changed.indexOf(String(names[j])) >= 0) {
            return true;
          }
        }
      }
      return false;
    },
    "prior": function (name) {
      var prior = env().prior;
      return prior === null || prior === undefined ? null : walk(prior, name);
    },
    "current_user": function (key) {
      return walk(env().user || {}, key === undefined ? "id" : key);
    },
    "has_role": function () {
      var roles = (env().user || {}).roles || [];
      for (var i = 0; i < arguments.length; i += 1) {
        var names = Array.isArray(arguments[i]) ? arguments[i] : [arguments[i]];
        for (var j = 0; j < names.length; j += 1) {
          if (roles.indexOf(String(names[j])) >= 0) {
            return true;
          }
        }
      }
      return false;
    },
    // a list holds the value (or any of a list of values), items compared as text; only
    // text and whole numbers count and blanks never match, as on the server
    "includes": function (list, value) {
      if (!Array.isArray(list)) {
        return false;
      }
      var wanted = (Array.isArray(value) ? value : [value]).map(memberText)
        .filter(function (text) { return text !== null; });
      return list.some(function (item) {
        var text = memberText(item);
        return text !== null && wanted.indexOf(text) >= 0;
      });
    }
  };

  function memberText(item) {
    if (typeof item === "string") {
      return item === "" ? null : item;
    }
    if (typeof item === "number" && Number.isInteger(item)) {
      return String(item);
    }
    return null;
  }

  function install(jsonLogic) {
    Object.keys(operators).forEach(function (name) {
      jsonLogic.add_operation(name, operators[name]);
    });
    return jsonLogic;
  }

  return { install: install, setEnv: setEnv, operators: operators };
}));
