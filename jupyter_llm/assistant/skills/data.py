"""The data skill: decision support over a pandas DataFrame of the notebook's namespace.

* **summary**: ``describe()`` of the columns, and a chart of the numeric means;
* **comparison of groups**: the mean of a measure per group (``groupby``), charted;
* **weighted decision matrix**: rows are the options, numeric columns the
  criteria; each criterion is rescaled to [0, 1] (min-max, reversed when lower
  is better), weighted and summed. Weights come from the message
  (``price -0.4 safety 0.4``; a negative weight, or a cost-like name such as
  price or 价格, means lower is better) or are equal.

The DataFrame is named in the message; when it is not, the only DataFrame of
the namespace is used, and the reply says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..charts import bar_chart
from ..reply import Reply
from .base import Context, Skill

__all__ = ["DataSkill", "decision_matrix"]

#: Criteria where less is better, unless the user gives a positive weight with a "+".
COST_WORDS = ("price", "cost", "fee", "rent", "time", "distance", "commute", "risk", "weight", "noise", "delay",
              "价格", "价钱", "成本", "费用", "时间", "距离", "通勤", "风险", "重量", "噪音", "房租")
_WEIGHT = re.compile(r"([^\W\d][\w\-\u4e00-\u9fff]*)\s*[:=]?\s*([+-]?\d+(?:\.\d+)?)\s*(%)?")


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "select_dtypes")


def _column(df, name: str | None):
    """The column of ``df`` called ``name`` (case and spaces ignored), or None."""
    if not name:
        return None
    key = re.sub(r"[\s_]+", "", name.lower())
    for col in df.columns:
        if re.sub(r"[\s_]+", "", str(col).lower()) == key:
            return col
    for col in df.columns:  # "salaries" -> salary
        c = re.sub(r"[\s_]+", "", str(col).lower())
        if c and (key.startswith(c) or c.startswith(key)) and min(len(c), len(key)) >= 3:
            return col
    return None


def decision_matrix(df, weights: Mapping[str, float] | None = None, label_column=None):
    """Score the rows of ``df`` (options) on its numeric columns (criteria).

    Returns ``(table, used)``: a DataFrame with a column per criterion rescaled
    to [0, 1] (1 is best), a ``score`` column (the weighted sum, weights
    normalised to add up to 1) sorted best first; and ``used``, each
    criterion's ``(weight, "higher"|"lower")``.
    """
    numeric = df.select_dtypes("number")
    if label_column is not None:
        numeric = numeric.drop(columns=[label_column], errors="ignore")
    if numeric.shape[1] == 0:
        raise ValueError("no numeric columns")
    weights = dict(weights or {})
    criteria = [c for c in numeric.columns if not weights or c in weights]
    used = {}
    for c in criteria:
        w = float(weights.get(c, 1.0))
        lower = w < 0 or (c not in weights and any(word in str(c).lower() for word in COST_WORDS))
        used[c] = (abs(w), "lower" if lower else "higher")
    total = sum(w for w, _ in used.values()) or 1.0
    out = numeric[criteria].astype(float).copy()
    for c in criteria:
        col = out[c]
        span = col.max() - col.min()
        scaled = (col - col.min()) / span if span else col * 0 + 1.0
        out[c] = 1 - scaled if used[c][1] == "lower" else scaled
    out["score"] = sum(out[c] * (used[c][0] / total) for c in criteria)
    if label_column is not None:
        out.index = df[label_column].astype(str).values
    return out.sort_values("score", ascending=False), {c: (w / total, d) for c, (w, d) in used.items()}


class DataSkill(Skill):
    name = "data"
    intents = {
        "data_summary": ("summarize a DataFrame: 'summarize sales'", "概括一个 DataFrame：“总结一下 sales”"),
        "data_compare": ("compare groups: 'compare revenue by region in sales'", "分组比较：“在 sales 里按 region 比较 revenue”"),
        "data_decide": ("a weighted decision matrix: 'rank the options in cars by price -0.4 safety 0.6'",
                        "加权决策矩阵：“用 price -0.4 safety 0.6 给 cars 打分”"),
    }

    # === Finding the data ===

    def _frame(self, ctx: Context):
        ns = ctx.namespace
        name = ctx.slot("dataframe")
        if name and _is_dataframe(ns.get(name)):
            return name, ns[name], None
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", ctx.message):  # a DataFrame named anywhere in the message
            if _is_dataframe(ns.get(word)) and not word.startswith("_"):
                return word, ns[word], None
        frames = [k for k, v in ns.items() if not k.startswith("_") and _is_dataframe(v)]
        if len(frames) == 1:
            note = ctx.say("No DataFrame named; using '{n}', the only one in the namespace.",
                           "没有指明 DataFrame，使用命名空间里唯一的“{n}”。", n=frames[0])
            return frames[0], ns[frames[0]], note
        shown = ", ".join(frames) if frames else ctx.say("none", "无")
        asked = f"'{name}'" if name else ctx.say("no name", "未指明")
        raise _Problem(ctx.say("Which DataFrame? I understood {a}; the DataFrames of the namespace are: {f}.",
                               "是哪个 DataFrame？我理解到的是 {a}；命名空间里的 DataFrame 有：{f}。", a=asked, f=shown))

    def handle(self, ctx: Context) -> Reply:
        try:
            return super().handle(ctx)
        except _Problem as p:
            return ctx.reply(str(p), status="error")

    # === Intents ===

    def do_data_summary(self, ctx: Context) -> Reply:
        name, df, note = self._frame(ctx)
        desc = df.describe(include="all").T
        numeric = df.select_dtypes("number")
        text = ctx.say("'{n}': {r} rows × {c} columns ({k} numeric).", "“{n}”：{r} 行 × {c} 列（{k} 列数值）。",
                       n=name, r=len(df), c=df.shape[1], k=numeric.shape[1])
        missing = {str(c): int(v) for c, v in df.isna().sum().items() if v}
        extra = [note] if note else []
        if missing:
            extra.append(ctx.say("Missing values: {m}.", "缺失值：{m}。", m=", ".join(f"{k} {v}" for k, v in missing.items())))
        chart = bar_chart([(str(c), float(numeric[c].mean())) for c in numeric.columns],
                          title=ctx.say("mean of each numeric column", "各数值列的均值")) if numeric.shape[1] else ""
        table = desc.round(3).to_html(escape=True, na_rep="", border=0)
        return ctx.reply(text, body_html=table + chart, extra=extra,
                         data={"dataframe": name, "rows": len(df), "columns": [str(c) for c in df.columns], "missing": missing})

    def do_data_compare(self, ctx: Context) -> Reply:
        name, df, note = self._frame(ctx)
        extra = [note] if note else []
        numeric = [c for c in df.select_dtypes("number").columns]
        others = [c for c in df.columns if c not in numeric]
        measure = _column(df, ctx.slot("measure"))
        group = _column(df, ctx.slot("group"))
        if measure is None or group is None:  # look for column names in the message itself
            for col in df.columns:
                if re.search(rf"(?<!\w){re.escape(str(col))}(?!\w)", ctx.message, re.IGNORECASE):
                    if measure is None and col in numeric and col != group:
                        measure = col
                    elif group is None and col not in numeric and col != measure:
                        group = col
        if measure is None and numeric:
            measure = numeric[0]
            extra.append(ctx.say("No measure named; comparing '{m}'.", "没有指明比较的数值，使用“{m}”。", m=measure))
        if group is None and others:
            group = others[0]
            extra.append(ctx.say("No groups named; grouping by '{g}'.", "没有指明分组，按“{g}”分组。", g=group))
        if measure is None or group is None or measure not in numeric:
            return ctx.reply(ctx.say("I need a numeric column to compare and a column of groups in '{n}' (columns: {c}).",
                                     "需要“{n}”里的一个数值列和一个分组列（列：{c}）。", n=name,
                                     c=", ".join(map(str, df.columns))), status="error")
        stats = df.groupby(group)[measure].agg(["mean", "count", "std"]).sort_values("mean", ascending=False)
        best, worst = stats.index[0], stats.index[-1]
        text = ctx.say("Mean {m} by {g} in '{n}': highest {b} ({bv:.3g}), lowest {w} ({wv:.3g}).",
                       "“{n}”中按 {g} 分组的 {m} 均值：最高 {b}（{bv:.3g}），最低 {w}（{wv:.3g}）。",
                       m=measure, g=group, n=name, b=best, bv=stats["mean"].iloc[0], w=worst, wv=stats["mean"].iloc[-1])
        if len(stats) > 1 and stats["count"].min() < 5:
            extra.append(ctx.say("Some groups have fewer than 5 rows: treat their means with care.",
                                 "有的分组少于5行，其均值仅供参考。"))
        chart = bar_chart([(str(k), float(v)) for k, v in stats["mean"].items()], title=f"{measure} / {group}",
                          highlight=str(best))
        return ctx.reply(text, body_html=stats.round(3).to_html(escape=True, border=0) + chart, extra=extra,
                         data={"dataframe": name, "measure": str(measure), "group": str(group),
                               "means": {str(k): float(v) for k, v in stats["mean"].items()}})

    def do_data_decide(self, ctx: Context) -> Reply:
        name, df, note = self._frame(ctx)
        extra = [note] if note else []
        label_column = None
        if df.index.dtype.kind in "iu" and list(df.index) == list(range(len(df))):
            texts = list(df.select_dtypes(exclude="number").columns)
            label_column = texts[0] if texts else None
        weights = {}
        for word, number, percent in _WEIGHT.findall(ctx.message):
            col = _column(df, word)
            if col is not None and col in df.select_dtypes("number").columns:
                weights[col] = float(number) / (100 if percent else 1)
        try:
            table, used = decision_matrix(df, weights, label_column)
        except ValueError:
            return ctx.reply(ctx.say("'{n}' has no numeric columns to use as criteria.", "“{n}”没有可作为标准的数值列。", n=name),
                             status="error")
        if not weights:
            extra.append(ctx.say("No weights given, so every criterion counts the same; give some like 'price -0.4 safety 0.6'.",
                                 "没有给出权重，各标准同等重要；可以这样给：“price -0.4 safety 0.6”。"))
        how = ", ".join(f"{c} {w:.0%} ({ctx.say('lower is better', '越低越好') if d == 'lower' else ctx.say('higher is better', '越高越好')})"
                        for c, (w, d) in used.items())
        best = table.index[0]
        text = ctx.say("Best option in '{n}': {b} (score {s:.2f} of 1). Criteria: {h}.",
                       "“{n}”中的最佳选择：{b}（得分 {s:.2f}，满分1）。标准：{h}。", n=name, b=best, s=table["score"].iloc[0], h=how)
        chart = bar_chart([(str(k), float(v)) for k, v in table["score"].items()], title=ctx.say("weighted score", "加权得分"),
                          highlight=str(best))
        return ctx.reply(text, body_html=table.round(3).to_html(escape=True, border=0) + chart, extra=extra,
                         data={"dataframe": name, "best": str(best), "scores": {str(k): float(v) for k, v in table["score"].items()},
                               "weights": {str(c): w for c, (w, _) in used.items()},
                               "directions": {str(c): d for c, (_, d) in used.items()}})


class _Problem(Exception):
    """A request the data skill cannot serve; its message is shown as the reply."""
