"""Reading a gradient rule back from its source: the `defop(...)` call that defined an op, the
expression of each rule and the comment on its line (the rule's formula).

`Op.formula` (minigrad/autograd.py) asks here for a rule's trailing comment; `minigrad.viz`
for the expression text it draws and docs/rules.md shows. Source files are parsed once each.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

_SOURCES: dict = {}  # filename -> (ast tree, {line: comment}, {function name: def})
_PARTS_CACHE: dict = {}  # id(op) -> (op, {input: (expression text, comment, file:line)})


def _source_info(filename: str):
    info = _SOURCES.get(filename)
    if info is None:
        try:
            with open(filename, encoding="utf-8") as f:
                text = f.read()
            tree = ast.parse(text)
            comments = {}
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type == tokenize.COMMENT:
                    comments[tok.start[0]] = tok.string.lstrip("#").strip()
            defs = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            info = (tree, comments, defs)
        except (OSError, SyntaxError, UnicodeDecodeError):
            info = (None, {}, {})
        _SOURCES[filename] = info
    return info


def _find_defop_call(op, tree) -> ast.Call | None:
    """The `defop("name", forward, x=rule, ...)` call that defined `op`."""
    code = getattr(op.forward, "__code__", None)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and len(node.args) >= 2 and node.keywords):
            continue
        first, forward = node.args[0], node.args[1]
        if not (isinstance(first, ast.Constant) and first.value == op.name):
            continue
        if isinstance(forward, ast.Lambda):
            if (
                code is not None
                and code.co_name == "<lambda>"
                and forward.lineno == code.co_firstlineno
            ):
                return node
        elif isinstance(forward, ast.Name) and forward.id == getattr(op.forward, "__name__", None):
            return node
    return None


def _single_return(fn: ast.FunctionDef) -> ast.expr | None:
    body = [
        s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return body[0].value
    return None


_TIDY = [
    (re.compile(r"\bxp\."), ""),  # xp.exp(x) -> exp(x): the namespace is an implementation detail
    (re.compile(r"\(xp, "), "("),  # helper(xp, g, ...) -> helper(g, ...)
    (re.compile(r"math\.sqrt\(math\.pi\)"), "√π"),
    (re.compile(r"math\.pi"), "π"),
    (re.compile(r" \*\* "), "^"),
    (re.compile(r" \* "), "·"),
]


def _tidy(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    for pattern, repl in _TIDY:
        text = pattern.sub(repl, text)
    return text


def _short_path(filename: str) -> str:
    norm = filename.replace("\\", "/")
    k = norm.rfind("/minigrad/")
    return norm[k + 1 :] if k >= 0 else norm.rsplit("/", 1)[-1]


def rule_parts(op) -> dict:
    """{input name: (rule expression as text, comment on its lines, "file:line")} for every
    rule written as a keyword of `op`'s defop call (a lambda or a one-return function);
    ("", "", "") for inputs whose rule cannot be read."""
    cached = _PARTS_CACHE.get(id(op))
    if cached is not None and cached[0] is op:
        return cached[1]
    code = getattr(op.forward, "__code__", None)
    filename = code.co_filename if code is not None else ""
    tree, comments, defs = _source_info(filename) if filename else (None, {}, {})
    call = _find_defop_call(op, tree) if tree is not None else None
    keywords = {kw.arg: kw for kw in call.keywords} if call is not None else {}
    parts = {}
    names = op.input_names if op.backward is None else ("backward",)
    for name in names:
        kw = keywords.get(name)
        if kw is None:
            parts[name] = ("", "", "")
            continue
        expr, math_text = None, ""
        if isinstance(kw.value, ast.Lambda):
            expr = kw.value.body
        elif isinstance(kw.value, ast.Name) and kw.value.id in defs:
            expr = _single_return(defs[kw.value.id])
            if expr is None:
                math_text = f"{kw.value.id}(…)"
        if expr is not None:
            math_text = _tidy(expr)
        lines = range(kw.lineno, (kw.end_lineno or kw.lineno) + 1)
        comment = "; ".join(comments[n] for n in lines if n in comments)
        if not comment and len(op.input_names) == 1:
            comment = comments.get(call.end_lineno, "")  # one-liners: `...)  # formula`
        parts[name] = (math_text, comment, f"{_short_path(filename)}:{kw.lineno}")
    _PARTS_CACHE[id(op)] = (op, parts)
    return parts


def rule_comment(op, input_name: str) -> str:
    """The formula comment on the line of `input_name`'s rule in `op`'s defop call, or ""."""
    return rule_parts(op).get(input_name, ("", "", ""))[1]
