"""Evaluation figures (PNG): confusion matrix, sensor-text similarity heat-map, recall@k curves
and an example day with its events, reference caption and retrieved captions.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, so the caller's
matplotlib backend and global state are left alone) and written atomically: a temporary file in
the destination directory, then ``os.replace``.
"""

import os
import textwrap

import numpy as np

from sensorlm_keras.errors import InputValidationError, describe
from sensorlm_keras.evaluation.caption_facts import event_spans
from sensorlm_keras.utils.atomic_io import atomic_path

DPI = 120
_EVENT_COLORS = {"activity": "#e4572e", "sleep": "#3f6fb5", "mood": "#2a9d58"}


def _new_figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path):
    """Write ``figure`` as PNG to ``path`` atomically (`atomic_path`); returns ``path``."""
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return path


def _clock(minute):
    minute = int(minute)
    return f"{minute // 60:02d}:{minute % 60:02d}"


def plot_confusion_matrix(matrix, class_names, path, title="Zero-shot activity recognition"):
    """Confusion matrix (rows: true class, columns: predicted class) coloured by the fraction of
    each true class, with the counts written in the cells.

    Args:
        matrix: ``(K, K)`` counts.
        class_names: the ``K`` class names.
        path: output PNG path.
        title: figure title (the accuracy is appended).

    Returns:
        ``path``.

    Example:

    ```python
    from sensorlm_keras.evaluation.plots import plot_confusion_matrix

    plot_confusion_matrix([[3, 1], [0, 4]], ["run", "walk"], "confusion.png")
    ```
    """
    matrix = np.asarray(matrix, dtype=np.int64)
    k = len(class_names)
    if matrix.shape != (k, k):
        raise InputValidationError(
            f"matrix: expected shape ({k}, {k}) for {k} classes, received {describe(matrix)}."
        )
    totals = matrix.sum(axis=1, keepdims=True)
    fraction = np.divide(matrix, np.maximum(totals, 1), dtype=np.float64)
    side = max(5.5, 0.55 * k + 3.0)
    figure = _new_figure(side + 1.2, side)
    ax = figure.add_subplot(1, 1, 1)
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("fraction of the true class's days")
    font = 9 if k <= 12 else 7
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=font,
                        color="white" if fraction[i, j] > 0.55 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(class_names, rotation=45, ha="right", fontsize=font)
    ax.set_yticklabels(
        [f"{name} (n={int(totals[i, 0])})" for i, name in enumerate(class_names)], fontsize=font
    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class (logged activity)")
    n = int(matrix.sum())
    accuracy = float(np.trace(matrix)) / n if n else float("nan")
    ax.set_title(f"{title}\n{n} days, {k} classes, accuracy {accuracy:.3f}")
    return save_figure(figure, path)


def plot_similarity_heatmap(similarity, path, max_items=40,
                            title="Sensor-text similarity"):
    """Heat-map of day x caption similarity logits for the first ``max_items`` pairs; matching
    pairs (the diagonal) are outlined and each day's best caption is marked with a dot.

    Args:
        similarity: ``(N, N)`` scores, rows = days, columns = their captions in the same order.
        path: output PNG path.
        max_items: show at most this many days / captions.
        title: figure title.

    Returns:
        ``path``.

    Example:

    ```python
    from sensorlm_keras.evaluation.plots import plot_similarity_heatmap

    plot_similarity_heatmap(model.similarity(z_sensor, z_text), "similarity.png")
    ```
    """
    from matplotlib.patches import Rectangle

    s = np.asarray(similarity, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] == 0:
        raise InputValidationError(
            f"similarity: expected a non-empty square array, received {describe(similarity)}."
        )
    total = s.shape[0]
    n = min(total, int(max_items))
    s = s[:n, :n]
    side = min(10.0, max(5.5, 0.2 * n + 3.0))
    figure = _new_figure(side + 1.3, side)
    ax = figure.add_subplot(1, 1, 1)
    image = ax.imshow(s, cmap="viridis", interpolation="nearest")
    colorbar = figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("similarity logit  exp(t')·cos(s, t) + b")
    for i in range(n):
        ax.add_patch(Rectangle((i - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#ff3b30",
                               linewidth=1.4))
    best = np.argmax(s, axis=1)
    ax.scatter(best, np.arange(n), s=max(4, 120 / max(n, 1) ** 0.5), c="white",
               edgecolors="black", linewidths=0.5, zorder=3)
    step = max(1, n // 10)
    ax.set_xticks(range(0, n, step))
    ax.set_yticks(range(0, n, step))
    ax.set_xlabel("caption index (text)")
    ax.set_ylabel("day index (sensor)")
    shown = f"first {n} of {total} pairs" if n < total else f"{n} pairs"
    ax.set_title(f"{title} ({shown})\nred boxes: matching pairs; dots: best caption per day",
                 fontsize=11)
    return save_figure(figure, path)


def plot_recall_curves(curves, num_candidates, path, marks=(1, 5, 10),
                       title="Cross-modal retrieval"):
    """Recall@k against k for each retrieval direction, with the chance level ``k / N``.

    Args:
        curves: dict name -> array of recall@k for ``k = 1 .. len(array)``.
        num_candidates: ``N``, the number of candidates per query.
        path: output PNG path.
        marks: cut-offs annotated on the curves.
        title: figure title.

    Returns:
        ``path``.

    Example:

    ```python
    from sensorlm_keras.evaluation import recall_curve
    from sensorlm_keras.evaluation.plots import plot_recall_curves

    plot_recall_curves({"sensor -> text": recall_curve(sim), "text -> sensor":
                        recall_curve(sim.T)}, sim.shape[0], "recall.png")
    ```
    """
    if not isinstance(curves, dict) or not curves:
        raise InputValidationError(
            f"curves: expected a dict name -> recall array, received {describe(curves)}."
        )
    n = int(num_candidates)
    figure = _new_figure(7.5, 5.0)
    ax = figure.add_subplot(1, 1, 1)
    styles = ["-o", "-s", "-^", "-d"]
    longest = 1
    for index, ((name, values), style) in enumerate(zip(curves.items(), styles * 4)):
        values = np.asarray(values, dtype=np.float64)
        ks = np.arange(1, values.size + 1)
        longest = max(longest, values.size)
        line, = ax.plot(ks, values, style, markersize=3, linewidth=1.6, label=name)
        for k in marks:
            if k <= values.size:
                # first curve labelled above its points, the others below
                ax.annotate(f"{values[k - 1]:.2f}", (k, values[k - 1]),
                            textcoords="offset points", xytext=(5, 6 if index == 0 else -13),
                            fontsize=8, color=line.get_color())
    ks = np.arange(1, longest + 1)
    ax.plot(ks, np.minimum(ks, n) / n, "--", color="0.5", label="chance (k / N)")
    for k in marks:
        if k <= longest:
            ax.axvline(k, color="0.85", linewidth=0.8, zorder=0)
    if longest > 20:
        from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(
            [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if v <= longest]))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.9 if longest > 20 else 0.5, longest + (0.5 if longest <= 20 else 0))
    ax.set_ylim(0.0, 1.03)
    ax.set_xlabel("k (number of retrieved candidates)")
    ax.set_ylabel("recall@k (fraction of queries whose match is in the top k)")
    ax.set_title(f"{title}: recall@k over {n} day-caption pairs")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return save_figure(figure, path)


def _wrap(text, width, limit=420):
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return textwrap.fill(text, width=width, subsequent_indent="    ")


def plot_example_day(sensor, path, channel_names=None, mask=None, events=None,
                     reference_caption=None, retrieved=None, title="Example day"):
    """One day as a heat-map of its channels over the 24 hours, its logged events above it,
    and below it the reference caption and the top captions retrieved for it.

    Args:
        sensor: ``(T, C)`` z-scores of the day.
        path: output PNG path.
        channel_names: ``C`` names for the y axis.
        mask: optional ``(T, C)`` bool, True where the value was missing (drawn grey).
        events: optional list of `Event` (activities and sleep as bars, moods as ticks).
        reference_caption: the day's own caption.
        retrieved: optional list of ``(caption, score, is_match)``, best first.
        title: figure title.

    Returns:
        ``path``.

    Example:

    ```python
    from sensorlm_keras.evaluation.plots import plot_example_day

    plot_example_day(data.sensor[0], "day.png", channel_names=data.channel_names,
                     events=data.events[0], reference_caption=data.captions[0])
    ```
    """
    day = np.asarray(sensor, dtype=np.float64)
    if day.ndim != 2 or day.shape[0] < 1:
        raise InputValidationError(
            f"sensor: expected one day (T, C), received {describe(sensor)}."
        )
    text = _captions_text(reference_caption, retrieved)
    gap = 0.6  # inches between the heat-map's axis label and the text
    text_height = 0.17 * (text.count("\n") + 1) + gap + 0.1 if text else 0.0
    figure = _new_figure(13.0, 7.6 + text_height)
    outer = figure.add_gridspec(2 if text else 1, 1, hspace=0.0,
                                height_ratios=[7.6, text_height] if text else None)
    grid = outer[0].subgridspec(2, 2, height_ratios=[0.9, 6.0], width_ratios=[60, 1],
                                hspace=0.06, wspace=0.02)
    ax_events = figure.add_subplot(grid[0, 0])
    ax_map = figure.add_subplot(grid[1, 0], sharex=ax_events)
    _draw_channels(figure, ax_map, figure.add_subplot(grid[1, 1]), day, mask, channel_names)
    _draw_events(ax_events, events)
    ax_events.set_title(title, fontsize=12, pad=14)
    if text:
        ax_text = figure.add_subplot(outer[1])
        ax_text.axis("off")
        ax_text.text(0.0, 1.0 - gap / text_height, text, va="top", ha="left", fontsize=8.5,
                     transform=ax_text.transAxes)
    return save_figure(figure, path)


def _captions_text(reference_caption, retrieved):
    """The reference caption and the retrieved captions, wrapped, as one block of text."""
    lines = []
    if reference_caption:
        lines += ["Reference caption:", _wrap(reference_caption, 150), ""]
    if retrieved:
        lines.append("Top captions retrieved for this day (similarity logit):")
        for rank, (caption, score, is_match) in enumerate(retrieved, start=1):
            tag = "  <- its own caption" if is_match else ""
            lines.append(_wrap(f"{rank}. [{float(score):.2f}]{tag} {caption}", 150))
    return "\n".join(lines).rstrip()


def _draw_channels(figure, ax_map, cax, day, mask, channel_names):
    """The day's channels as a z-score heat-map over time (missing values grey)."""
    import matplotlib

    t, c = day.shape
    names = list(channel_names) if channel_names is not None else [f"ch{i}" for i in range(c)]
    values = np.ma.masked_array(day.T, mask=None if mask is None else np.asarray(mask, bool).T)
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.75")
    image = ax_map.imshow(values, aspect="auto", cmap=cmap, vmin=-3, vmax=3,
                          interpolation="nearest", extent=(0, t, c - 0.5, -0.5))
    colorbar = figure.colorbar(image, cax=cax)
    colorbar.set_label("z-score (colour clipped at ±3); grey = missing")
    ax_map.set_yticks(range(c))
    ax_map.set_yticklabels(names, fontsize=6.5 if c > 20 else 8)
    ax_map.set_ylabel("channel")
    step = 120 if t >= 720 else max(1, t // 6)
    ticks = list(range(0, t + 1, step))
    ax_map.set_xticks(ticks)
    ax_map.set_xticklabels([_clock(m) for m in ticks] if t == 1440 else ticks)
    ax_map.set_xlabel("time of day" if t == 1440 else "minute")
    ax_map.set_xlim(0, t)


def _draw_events(ax_events, events):
    """Activities and sleep as bars, moods as ticks, each labelled above its longest span."""
    ax_events.set_ylim(0, 1)
    ax_events.set_yticks([])
    ax_events.tick_params(labelbottom=False)
    ax_events.set_ylabel("events", rotation=0, ha="right", va="center", fontsize=9)
    shown, placed = set(), []
    for event in events or ():
        color = _EVENT_COLORS.get(event.kind, "0.4")
        label = event.kind if event.kind not in shown else None
        shown.add(event.kind)
        if event.kind == "mood":
            ax_events.plot([event.start_minute] * 2, [0.1, 0.62], color=color, linewidth=2,
                           label=label)
            spans = [(event.start_minute, event.start_minute + 1)]
        else:
            spans = event_spans(event)
            for start, end in spans:
                ax_events.axvspan(start, end, ymin=0.1, ymax=0.62, color=color, alpha=0.8,
                                  label=label)
                label = None
        # One text label per event, above its longest span; labels closer than ~1 hour to an
        # earlier one are lifted to a second row so they do not overlap.
        start, end = max(spans, key=lambda se: se[1] - se[0])
        x = (start + end) / 2
        row = sum(1 for px in placed if abs(px - x) < 70) % 2
        placed.append(x)
        ax_events.text(x, 0.74 + 0.2 * row, event.label, ha="center", va="center", fontsize=7.5,
                       color=color, clip_on=False)
    if shown:
        ax_events.legend(loc="upper left", bbox_to_anchor=(1.0, 1.1), fontsize=7, frameon=False)
