"""The demo page (Gradio): the saved models :func:`genzoo.demo.core.discover` finds, sampled on the
CPU. Every handler turns bad input (a corrupt checkpoint, a bad seed) into one line on the page."""

from __future__ import annotations

import os
import threading

from ..errors import UserError
from . import core

GRADIO_MISSING = "genzoo demo needs Gradio: pip install 'genzoo[demo]'"


def gradio():
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")   # no calls home: the page works offline
    try:
        import gradio as gr
    except ImportError:
        raise UserError(GRADIO_MISSING) from None
    return gr


class Models:
    """The found models by label, each loaded on first use (thread-safe: Gradio runs handlers in
    threads); a folder that fails to load keeps its one-line error."""

    def __init__(self, found: core.Found):
        self.found = found
        self.by_label = {m.label: m for m in found.models}
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        return list(self.by_label)

    def get(self, label: str):
        """(saved, model); UserError (one line) for an unknown label or a folder that cannot be loaded."""
        if label not in self.by_label:
            raise UserError(f"unknown model {label!r}")
        with self._lock:
            if label not in self._loaded:
                try:
                    self._loaded[label] = core.load_model(self.by_label[label])
                except UserError as exc:
                    self._loaded[label] = exc
            got = self._loaded[label]
        if isinstance(got, UserError):
            raise got
        return self.by_label[label], got


def _error(exc: Exception) -> str:
    return f"**Error:** {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def build(found: core.Found):
    """The Gradio Blocks of the page (not launched)."""
    gr = gradio()
    models = Models(found)
    labels = models.labels
    notes = "".join(f"\n\n*Note:* {n}" for n in found.notes)

    def on_model(label, seed, seed_a, seed_b, steps, psi, rows, cols):
        """A model was picked: its description, class picker, samples and interpolation, and the
        controls it declares: the truncation slider, the style-mixing grid, the sides it grew through."""
        hidden = gr.update(visible=False)
        try:
            saved, model = models.get(label)
            choices = core.class_choices(model)
            choice = choices[0] if choices else None
            mixes, grew = core.can_mix(model), bool(core.grown_sides(model))
            return ("", core.describe(saved, model), gr.update(choices=choices, value=choice, visible=bool(choices)),
                    core.sample_picture(model, seed, choice, psi),
                    core.interpolation_picture(model, seed_a, seed_b, steps, choice),
                    gr.update(visible=core.can_truncate(model)),
                    gr.update(visible=mixes), core.mixing_picture(model, rows, cols, psi) if mixes else None,
                    gr.update(visible=grew), core.growth_picture(model, seed) if grew else None)
        except UserError as exc:
            return _error(exc), "", hidden, None, None, hidden, hidden, None, hidden, None

    def on_draw(label, seed, choice, psi):
        try:
            _, model = models.get(label)
            return "", core.sample_picture(model, seed, choice, psi)
        except UserError as exc:
            return _error(exc), None

    def on_new(label, choice, psi):
        seed = core.new_seed()
        status, picture = on_draw(label, seed, choice, psi)
        return status, seed, picture

    def on_mix(label, rows, cols, psi):
        """The style-mixing grid (nothing for a model that does not mix styles: it is hidden)."""
        try:
            _, model = models.get(label)
            return "", core.mixing_picture(model, rows, cols, psi) if core.can_mix(model) else None
        except UserError as exc:
            return _error(exc), None

    def on_grow(label, seed):
        """The samples at each side grown through (nothing for a model that did not grow: hidden)."""
        try:
            _, model = models.get(label)
            return "", core.growth_picture(model, seed) if core.grown_sides(model) else None
        except UserError as exc:
            return _error(exc), None

    def on_interpolate(label, seed_a, seed_b, steps, choice):
        try:
            _, model = models.get(label)
            return "", core.interpolation_picture(model, seed_a, seed_b, steps, choice)
        except UserError as exc:
            return _error(exc), None

    def on_compare(label_a, label_b, seed):
        out = []
        errors = []
        for label in (label_a, label_b):
            try:
                saved, model = models.get(label)
                out += [core.sample_picture(model, seed), core.describe(saved, model)]
            except UserError as exc:
                errors.append(_error(exc))
                out += [None, ""]
        return (" ".join(errors), *out)

    # delete_cache: the pictures Gradio keeps in its temporary folder go after an hour
    with gr.Blocks(title="genzoo demo", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown(f"# genzoo demo\n{core.summary_line(found)}, sampled on the CPU; nothing is trained here.{notes}")
        status = gr.Markdown(elem_id="status")
        with gr.Tab("Samples"):
            with gr.Row():
                with gr.Column(scale=3):
                    model = gr.Dropdown(labels, value=labels[0], label="model", elem_id="model")
                    with gr.Row():
                        seed = gr.Number(value=0, precision=0, minimum=0, label="seed", elem_id="seed")
                        klass = gr.Dropdown([], label="class", visible=False, elem_id="class")
                        new = gr.Button("new samples", variant="primary", elem_id="new-samples")
                        draw = gr.Button("draw this seed", elem_id="draw")
                    psi = gr.Slider(0, 1, value=1, step=0.05, label="truncation psi (1: none; 0: the average style)",
                                    visible=False, elem_id="truncation")
                    picture = gr.Image(label="samples", type="numpy", format="png", interactive=False,
                                       elem_id="samples")
                with gr.Column(scale=2):
                    info = gr.Markdown(elem_id="info")
            gr.Markdown("### Latent interpolation between two seeds")
            with gr.Row():
                seed_a = gr.Number(value=1, precision=0, minimum=0, label="from seed", elem_id="seed-a")
                seed_b = gr.Number(value=2, precision=0, minimum=0, label="to seed", elem_id="seed-b")
                steps = gr.Slider(2, 16, value=core.GRID_COLUMNS, step=1, label="steps", elem_id="steps")
                interpolate = gr.Button("interpolate", elem_id="interpolate")
            strip = gr.Image(label="interpolation", type="numpy", format="png", interactive=False, elem_id="strip")
            with gr.Column(visible=False) as mixing:
                gr.Markdown("### Style mixing (the StyleGAN paper's figure)\nEach image takes its coarse styles "
                            "from its row's seed (left) and its fine styles from its column's seed (top).")
                with gr.Row():
                    rows = gr.Textbox(value="1, 2, 3, 4", label="row seeds (coarse styles)", elem_id="mix-rows")
                    cols = gr.Textbox(value="5, 6, 7, 8", label="column seeds (fine styles)", elem_id="mix-cols")
                    mix = gr.Button("mix", elem_id="mix")
                mixed = gr.Image(label="style mixing", type="numpy", format="png", interactive=False, elem_id="mixed")
            with gr.Column(visible=False) as growth:
                gr.Markdown("### The sides it grew through\nThe samples of this seed drawn at each side the "
                            "generator was grown through (top: the smallest), enlarged pixel for pixel.")
                grown = gr.Image(label="growth", type="numpy", format="png", interactive=False, elem_id="grown")
        with gr.Tab("Side by side"):
            gr.Markdown("Two models on the same latent seed (e.g. a VAE against a DCGAN: the blur shows).")
            with gr.Row():
                left = gr.Dropdown(labels, value=labels[0], label="left model", elem_id="left")
                right = gr.Dropdown(labels, value=labels[min(1, len(labels) - 1)], label="right model", elem_id="right")
                seed_c = gr.Number(value=0, precision=0, minimum=0, label="seed", elem_id="seed-compare")
                compare = gr.Button("compare", variant="primary", elem_id="compare")
            with gr.Row():
                with gr.Column():
                    left_picture = gr.Image(label="left", type="numpy", format="png", interactive=False, elem_id="left-samples")
                    left_info = gr.Markdown()
                with gr.Column():
                    right_picture = gr.Image(label="right", type="numpy", format="png", interactive=False, elem_id="right-samples")
                    right_info = gr.Markdown()

        model_inputs = [model, seed, seed_a, seed_b, steps, psi, rows, cols]
        model_outputs = [status, info, klass, picture, strip, psi, mixing, mixed, growth, grown]
        model.change(on_model, model_inputs, model_outputs)
        page.load(on_model, model_inputs, model_outputs)
        new.click(on_new, [model, klass, psi], [status, seed, picture]).then(on_grow, [model, seed], [status, grown])
        draw.click(on_draw, [model, seed, klass, psi], [status, picture]).then(on_grow, [model, seed], [status, grown])
        klass.input(on_draw, [model, seed, klass, psi], [status, picture])
        psi.release(on_draw, [model, seed, klass, psi], [status, picture])
        psi.release(on_mix, [model, rows, cols, psi], [status, mixed])
        mix.click(on_mix, [model, rows, cols, psi], [status, mixed])
        interpolate.click(on_interpolate, [model, seed_a, seed_b, steps, klass], [status, strip])
        compare_outputs = [status, left_picture, left_info, right_picture, right_info]
        for trigger in (compare.click, left.change, right.change):
            trigger(on_compare, [left, right, seed_c], compare_outputs)
    return page


def theme():
    """Gradio's default theme with the system's fonts (the default loads Google Fonts from the web)."""
    gr = gradio()
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


SHUTDOWN_S = 3       # on Ctrl-C or SIGTERM, how long open connections (a page's event stream) may hold the exit


def serve(found: core.Found, sock) -> None:
    """Serve the page until interrupted, on ``sock``: a socket listening on 127.0.0.1
    (:func:`genzoo.demo.core.listen`, port 0 included), so the port it holds is the one served.

    Gradio's ``launch`` takes a port number and binds it itself (an announced port could be
    taken in between, and port 0 would be announced as 0); here the page is mounted on an app of
    its own and uvicorn serves the socket already bound."""
    import uvicorn
    from fastapi import FastAPI

    gr = gradio()
    host, port = sock.getsockname()[:2]
    site = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)   # only the page: no API docs from a CDN
    site = gr.mount_gradio_app(site, build(found), path="/", server_name=host, server_port=port, footer_links=[],
                               ssr_mode=False, theme=theme())
    server = uvicorn.Server(uvicorn.Config(site, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_S))
    server.run(sockets=[sock])
