"""IBM Db2 for Linux, UNIX and Windows (11.1 and later) as a sqlglot dialect.

sqlglot has none, so tabledag carries its own; importing this module registers it with sqlglot
under the name `db2` (`sqlglot.transpile(sql, read="postgres", write="db2")`,
`parse_one(sql, read="db2")`).

It is based on sqlglot's Oracle dialect, which is closer to Db2 than Postgres is: unquoted names
fold to upper case, `FETCH FIRST n ROWS ONLY` and `OFFSET n ROWS` instead of LIMIT, SUBSTR, MOD,
INSTR, LISTAGG, NVL, TO_CHAR. What Db2 does differently:

- Types: VARCHAR needs a length (a bare one, and TEXT, become `VARCHAR(32672)`, the longest
  that can still be compared, grouped and ordered: CLOB cannot), VARBINARY likewise; DOUBLE,
  REAL, INTEGER, BIGINT, DECIMAL (at most 31 digits; a bare DECIMAL means DECIMAL(5, 0) in Db2,
  so it becomes DECFLOAT, which keeps what Postgres' unbounded NUMERIC keeps), BOOLEAN (11.1.1.1
  and later), TIMESTAMP (microseconds; no time zones: TIMESTAMPTZ is stored as UTC), BLOB and
  CLOB (CLOB parses as its own type, sqlglot's LONGTEXT, so it survives a round trip).
- Special registers are spelled with a space: `CURRENT DATE`, `CURRENT TIMESTAMP`.
- Durations are labelled: `d + 3 DAYS` (parsed into, and rendered from, sqlglot's Interval).
- A SELECT without FROM reads `SYSIBM.SYSDUMMY1`.
- Ranking functions take no window frame (ibis gives ROW_NUMBER one); EXTRACT(DOW/ISODOW)
  becomes DAYOFWEEK() - 1 / DAYOFWEEK_ISO() (Db2's own DOW counts from 1);
  DATE_TRUNC('UNIT', x) keeps Db2's argument order; CONCAT takes two arguments, so longer
  concatenations use `||`.
- `LOCK TABLE ... IN EXCLUSIVE MODE` parses (as a command, as in Postgres).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp, transforms
from sqlglot.dialects.dialect import rename_func
from sqlglot.dialects.oracle import Oracle
from sqlglot.generators.oracle import OracleGenerator
from sqlglot.parsers.oracle import OracleParser
from sqlglot.tokenizer_core import TokenType

from ..dialect import group_by_expressions

MAX_VARCHAR = 32672
"""The longest VARCHAR / VARBINARY Db2 has."""

_UNITS = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
}  # fmt: skip
"""Labelled-duration units (their plurals parse too); WEEK and QUARTER become days / months."""

_SCALED = {"WEEK": ("DAY", 7), "QUARTER": ("MONTH", 3), "MILLISECOND": ("MICROSECOND", 1000)}
"""Units Db2 has no labelled duration for, as multiples of one it has."""

_RANKING = (
    exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile,
    exp.Lag, exp.Lead,
)  # fmt: skip


def _frameless_ranking(expression: exp.Expr) -> exp.Expr:
    """Drop the window frame of ranking functions, which Db2 refuses (Postgres ignores it)."""
    if isinstance(expression, exp.Window) and isinstance(expression.this, _RANKING):
        expression.set("spec", None)
    return expression


def _from_dummy(expression: exp.Expr) -> exp.Expr:
    """`SELECT 1` -> `SELECT 1 FROM SYSIBM.SYSDUMMY1`: Db2 needs a FROM clause."""
    if isinstance(expression, exp.Select) and not expression.args.get("from_"):
        expression.set("from_", exp.From(this=exp.table_("SYSDUMMY1", db="SYSIBM")))
    return expression


def _extract_sql(self: Any, expression: exp.Extract) -> str:
    part = expression.this.name.upper()
    value = expression.expression
    if part == "DOW":  # Postgres: 0 = Sunday; Db2's DAYOFWEEK: 1 = Sunday
        return f"(DAYOFWEEK({self.sql(value)}) - 1)"
    if part == "ISODOW":
        return str(self.func("DAYOFWEEK_ISO", value))
    if part == "DOY":
        return str(self.func("DAYOFYEAR", value))
    return f"EXTRACT({part} FROM {self.sql(value)})"


def _date_trunc_sql(self: Any, expression: exp.Expr) -> str:
    unit = expression.args.get("unit")
    name = (unit.name if unit is not None else "DAY").upper()
    return str(self.func("DATE_TRUNC", exp.Literal.string(name), expression.this))


def _interval_sql(self: Any, expression: exp.Interval) -> str:
    """A labelled duration: `3 DAYS`; a WEEK is 7 DAYS, a QUARTER 3 MONTHS, a MILLISECOND
    1000 MICROSECONDS."""
    value = expression.this
    unit = expression.args.get("unit")
    name = unit.name.upper() if unit is not None else ""
    if value is not None and value.is_string and not name:  # INTERVAL '3 day'
        number, _, name = value.name.partition(" ")
        value, name = exp.Literal.number(number), name.upper()
    if name.endswith("S") and name[:-1] in _UNITS | {"MILLISECOND"}:
        name = name[:-1]
    factor = _SCALED.get(name)
    if not factor and name not in _UNITS:
        self.unsupported(f"Db2 has no labelled duration of {name or 'no unit'}")
    if value is not None and value.is_string:
        value = exp.Literal.number(value.name)
    if factor:
        name, times = factor
        value = (
            exp.Literal.number(int(value.name) * times)
            if value.is_int
            else exp.Mul(this=value, expression=exp.Literal.number(times))
        )
    sql = self.sql(value)
    if not isinstance(value, exp.Literal | exp.Column | exp.Paren):
        sql = f"({sql})"
    return f"{sql} {name}S"


def _scaled_duration(expression: exp.Expr) -> exp.Expr:
    """`n * INTERVAL '1 day'` -> `(n * 1) DAYS`: a Db2 duration is a number and a unit."""
    if isinstance(expression, exp.Mul):
        left, right = expression.this, expression.expression
        interval, factor = (right, left) if isinstance(right, exp.Interval) else (left, right)
        if isinstance(interval, exp.Interval) and not isinstance(factor, exp.Interval):
            value = interval.this
            if value is not None and value.is_string and interval.args.get("unit") is None:
                number, _, unit = value.name.partition(" ")
                value, interval = exp.Literal.number(number), exp.Interval(unit=exp.var(unit))
            if value is not None and value.is_string:
                value = exp.Literal.number(value.name)
            scaled = exp.Mul(this=factor.copy(), expression=value.copy())
            return exp.Interval(this=exp.paren(scaled), unit=interval.args.get("unit"))
    return expression


def _in_code_points(*args: exp.Expr) -> list[exp.Expr]:
    """Arguments without a trailing CODEUNITS32, which the generator adds back."""
    if args and isinstance(args[-1], exp.Column) and args[-1].name.upper() == "CODEUNITS32":
        return list(args[:-1])
    return list(args)


def _substring(args: list[exp.Expr]) -> exp.Substring:
    this, start, *length = _in_code_points(*args)
    return exp.Substring(this=this, start=start, length=length[0] if length else None)


def _substring_sql(self: Any, expression: exp.Substring) -> str:
    """In characters: Db2 counts a VARCHAR's bytes unless told CODEUNITS32."""
    start = expression.args.get("start") or exp.Literal.number(1)
    length = expression.args.get("length")
    args = [expression.this, start, *([length] if length else [])]
    return f"SUBSTRING({', '.join(self.sql(a) for a in args)}, CODEUNITS32)"


def _date_from_parts_sql(self: Any, expression: exp.DateFromParts) -> str:
    """`CAST('2024-01-02' AS DATE)` from literals, else TO_DATE of the digits (Db2 has no
    DATE_FROM_PARTS)."""
    parts = [expression.args.get(k) for k in ("year", "month", "day")]
    if all(isinstance(p, exp.Literal) and p.is_int for p in parts):
        y, m, d = (int(p.name) for p in parts)  # type: ignore[union-attr]
        return f"CAST('{y:04d}-{m:02d}-{d:02d}' AS DATE)"
    y, m, d = (self.sql(exp.paren(p) if isinstance(p, exp.Binary) else p) for p in parts)
    digits = f"CAST({y} * 10000 + {m} * 100 + {d} AS CHAR(8))"
    return f"TO_DATE({digits}, 'YYYYMMDD')"


def _iso_timestamps(expression: exp.Expr) -> exp.Expr:
    """`CAST('2024-01-01T12:00:00' AS TIMESTAMP)`: a space for the T, which Db2 does not take."""
    if (
        isinstance(expression, exp.Cast)
        and expression.to.is_type(*exp.DataType.TEMPORAL_TYPES)
        and expression.this.is_string
        and len(text := expression.this.name) > 10
        and text[10] == "T"
    ):
        expression.this.replace(exp.Literal.string(f"{text[:10]} {text[11:]}"))
    return expression


def _concat_sql(self: Any, expression: exp.Concat) -> str:
    parts = expression.expressions
    if len(parts) == 1:
        return str(self.sql(parts[0]))
    return " || ".join(self.sql(exp.paren(p) if isinstance(p, exp.Binary) else p) for p in parts)


class DB2(Oracle):
    """Db2 LUW: see the module docstring."""

    class Tokenizer(Oracle.Tokenizer):
        RAW_STRINGS = []  # Oracle's q'[...]' strings
        NATIONAL_RAW_STRINGS = []
        COMMANDS = {*Oracle.Tokenizer.COMMANDS, TokenType.LOCK}
        KEYWORDS = {
            **Oracle.Tokenizer.KEYWORDS,
            "CURRENT DATE": TokenType.CURRENT_DATE,
            "CURRENT TIME": TokenType.CURRENT_TIME,
            "CURRENT TIMESTAMP": TokenType.CURRENT_TIMESTAMP,
            "CLOB": TokenType.LONGTEXT,
            "DBCLOB": TokenType.LONGTEXT,
            "DECFLOAT": TokenType.DECFLOAT,
            "GRAPHIC": TokenType.NCHAR,
            "VARGRAPHIC": TokenType.NVARCHAR,
            "LOCK": TokenType.LOCK,
        }
        for _word in ("MINUS", "START", "SAMPLE", "VARCHAR2", "NVARCHAR2", "TOP"):
            KEYWORDS.pop(_word, None)  # Oracle's, not Db2's
        del _word

    class Parser(OracleParser):
        FUNCTIONS = {
            **OracleParser.FUNCTIONS,
            # Db2's DAYOFWEEK counts from 1 (Sunday): not sqlglot's DayOfWeek (0 = Sunday)
            "DAYOFWEEK": lambda args: exp.Anonymous(this="DAYOFWEEK", expressions=args),
            "SUBSTRING": _substring,
            "SUBSTR": _substring,
            "CHARACTER_LENGTH": lambda args: exp.Length(this=_in_code_points(*args)[0]),
            "CHAR_LENGTH": lambda args: exp.Length(this=_in_code_points(*args)[0]),
        }

        def _parse_term(self, parse_mod: bool = True) -> exp.Expr | None:
            """Terms, where the right side of `+` / `-` may be a labelled duration."""
            this = self._parse_factor(parse_mod=parse_mod)
            while self._match_set(self.TERM):
                token = self._prev.token_type
                klass = self.TERM[token]
                comments = self._prev_comments
                expression = self._parse_factor(parse_mod=parse_mod)
                if token in (TokenType.PLUS, TokenType.DASH) and expression is not None:
                    expression = self._parse_duration(expression)
                this = self.expression(klass(this=this, expression=expression), comments=comments)
                if isinstance(this, exp.Collate):
                    self._normalize_collate(this)
            return this

        def _parse_duration(self, value: exp.Expr) -> exp.Expr:
            word = self._curr.text.upper() if self._curr else ""
            unit = word[:-1] if word.endswith("S") and word[:-1] in _UNITS else word
            if unit not in _UNITS:
                return value
            self._advance()
            return exp.Interval(this=value, unit=exp.var(unit))

    class Generator(OracleGenerator):
        SUPPORTS_SELECT_INTO = False
        LOCKING_READS_SUPPORTED = True
        NVL2_SUPPORTED = True
        SUPPORTS_SINGLE_ARG_CONCAT = False
        TZ_TO_WITH_TIME_ZONE = False

        TYPE_MAPPING = {
            **OracleGenerator.TYPE_MAPPING,
            exp.DType.TINYINT: "SMALLINT",
            exp.DType.UTINYINT: "SMALLINT",
            exp.DType.INT: "INTEGER",
            exp.DType.UINT: "BIGINT",
            exp.DType.BIGINT: "BIGINT",
            exp.DType.DECIMAL: "DECIMAL",
            exp.DType.DECFLOAT: "DECFLOAT",
            exp.DType.FLOAT: "REAL",
            exp.DType.DOUBLE: "DOUBLE",
            exp.DType.BOOLEAN: "BOOLEAN",
            exp.DType.VARCHAR: "VARCHAR",
            exp.DType.NVARCHAR: "VARCHAR",
            exp.DType.NCHAR: "CHAR",
            exp.DType.TEXT: f"VARCHAR({MAX_VARCHAR})",
            exp.DType.LONGTEXT: "CLOB",
            exp.DType.MEDIUMTEXT: "CLOB",
            exp.DType.JSON: "CLOB",
            exp.DType.UUID: "CHAR(36)",
            exp.DType.BINARY: "BINARY",
            exp.DType.VARBINARY: "VARBINARY",
            exp.DType.BLOB: "BLOB",
            exp.DType.LONGBLOB: "BLOB",
            exp.DType.DATETIME: "TIMESTAMP",
            exp.DType.TIMESTAMP: "TIMESTAMP",
            exp.DType.TIMESTAMPNTZ: "TIMESTAMP",
            exp.DType.TIMESTAMPTZ: "TIMESTAMP",
            exp.DType.TIMESTAMPLTZ: "TIMESTAMP",
            exp.DType.TIMETZ: "TIME",
        }

        TRANSFORMS = {
            **OracleGenerator.TRANSFORMS,
            exp.Select: transforms.preprocess(
                [
                    transforms.eliminate_distinct_on,
                    transforms.eliminate_qualify,
                    _from_dummy,
                    group_by_expressions,
                ]
            ),
            exp.Window: transforms.preprocess([_frameless_ranking]),
            exp.Cast: transforms.preprocess([_iso_timestamps]),
            exp.Mul: transforms.preprocess([_scaled_duration]),
            exp.DateFromParts: _date_from_parts_sql,
            exp.StartsWith: lambda self, e: (
                f"LOCATE({self.sql(e, 'expression')}, {self.sql(e, 'this')}) = 1"
            ),
            exp.CurrentDate: lambda self, e: "CURRENT DATE",
            exp.CurrentTime: lambda self, e: "CURRENT TIME",
            exp.CurrentTimestamp: lambda self, e: "CURRENT TIMESTAMP",
            exp.Extract: _extract_sql,
            exp.DateTrunc: _date_trunc_sql,
            exp.TimestampTrunc: _date_trunc_sql,
            exp.Concat: _concat_sql,
            exp.StrPosition: lambda self, e: self.func(
                "LOCATE", e.args.get("substr"), e.this, e.args.get("position")
            ),
            exp.DayOfWeek: lambda self, e: f"(DAYOFWEEK({self.sql(e, 'this')}) - 1)",
            exp.DayOfWeekIso: rename_func("DAYOFWEEK_ISO"),
            exp.DayOfYear: rename_func("DAYOFYEAR"),
            exp.Substring: _substring_sql,
            exp.Length: lambda self, e: f"CHARACTER_LENGTH({self.sql(e, 'this')}, CODEUNITS32)",
            exp.Day: rename_func("DAY"),
            exp.Month: rename_func("MONTH"),
            exp.Year: rename_func("YEAR"),
        }
        TRANSFORMS.pop(exp.Table, None)  # Oracle drops AS before table aliases; Db2 takes it
        TRANSFORMS.pop(exp.Subquery, None)

        def interval_sql(self, expression: exp.Interval) -> str:
            return _interval_sql(self, expression)

        def altercolumn_sql(self, expression: exp.AlterColumn) -> str:
            """`SET NOT NULL` (which sqlglot's generator renders, but flags as unsupported)."""
            if expression.args.get("allow_null") is False and not expression.args.get("drop"):
                return f"ALTER COLUMN {self.sql(expression, 'this')} SET NOT NULL"
            return super().altercolumn_sql(expression)

        def datatype_sql(self, expression: exp.DataType) -> str:
            """VARCHAR and VARBINARY without a length get the longest there is."""
            if not expression.expressions and expression.this in (
                exp.DType.VARCHAR,
                exp.DType.NVARCHAR,
                exp.DType.VARBINARY,
            ):
                sized = expression.copy()
                sized.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(MAX_VARCHAR))])
                return super().datatype_sql(sized)
            if expression.this == exp.DType.DECIMAL and not expression.expressions:
                return "DECFLOAT"
            return super().datatype_sql(expression)
