"""The textbook claims, each tested over seeds with a verdict computed from the run records."""

from __future__ import annotations

import numpy as np

from .records import Benchmark, declared
from .summary import fmt, fmt_mean_std, fmt_p, mean_std
from .verdicts import (ALPHA, DOES_NOT_HOLD, EXACT_MAX, HOLDS, INCONCLUSIVE, MIN_N, MONTE_CARLO_DRAWS,  # noqa: F401
                       EXACT_NAMES, MONTE_CARLO_SEED, TEST_NAMES, VERDICT_RULE, Claim, Comparison, combine, compare, exact_test,
                       no_runs_note as _no_runs_note, worse as _worse)
from .within_class import claim_cgan_within_class

GAN = "gan"                  # the family the GAN-family claims range over (what each model declares)
LABEL_ACCURACY_BAR = 0.5     # "produces class k": most of its samples are classified as class k


# ----------------------------------------------------------------------------- the claims
def _gan_family(bench: Benchmark, claim: Claim, architecture: str = "conv") -> list[str]:
    """The models of this benchmark that declare the GAN family and ``architecture`` (those with
    records: a model that ran but has no ok run stays in, and makes the claim INCONCLUSIVE)."""
    present = [m for m in bench.family(GAN) if declared(m, "architecture") == architecture]
    if present:
        claim.details.append(f"Compared: the models that declare family {GAN!r} and architecture "
                             f"{architecture!r}: {', '.join(present)}.")
    else:
        claim.reason = f"no {architecture} model of the {GAN!r} family has records in this benchmark"
    return present


def _vae_vs_gans(bench: Benchmark, claim: Claim, metric: str, relation: str) -> Claim:
    vae = bench.values("vae", metric)
    gans = _gan_family(bench, claim)
    for g in gans:
        claim.comparisons.append(compare(f"vae vs {g}", f"vae {metric}", vae, relation, f"{g} {metric}",
                                         bench.values(g, metric)))
    claim.details += _no_runs_note(bench, ("vae", *gans))
    return combine(claim)


_LUCIC = ("as Lucic et al. 2018 state it: they compare the VAE with GANs of one convolutional (InfoGAN-style) "
          "architecture, so the claim is about the convolutional GANs")


def claim_vae_fid(bench: Benchmark) -> Claim:
    claim = Claim("vae-fid-worse", "The VAE's FID is worse than every convolutional GAN's (blurry VAE)",
                  f"On {bench.dataset_title} the VAE's FID is worse than that of each convolutional GAN-family model ("
                  + ", ".join(m for m in bench.family(GAN) if declared(m, "architecture") == "conv") + "), "
                  + _LUCIC + ".")
    return _vae_vs_gans(bench, claim, "fid", _worse(bench, "fid"))


def claim_vae_sharpness(bench: Benchmark) -> Claim:
    claim = Claim("vae-less-sharp", "The VAE's samples are less sharp than every convolutional GAN's",
                  f"On {bench.dataset_title} the VAE's sample sharpness is lower than that of each convolutional GAN-family "
                  "model (" + ", ".join(m for m in bench.family(GAN) if declared(m, "architecture") == "conv")
                  + "), " + _LUCIC + ".")
    return _vae_vs_gans(bench, claim, "sharpness", "<")


def claim_mlp_gan_noisy(bench: Benchmark) -> Claim:
    claim = Claim("mlp-gan-noisy", "The MLP GAN's samples are noisier than the data (sharpness above 1)",
                  "A fully connected generator has no notion of neighbouring pixels: its samples carry "
                  "pixel noise, so their Laplacian variance is above the real images' (sharpness > 1). Not "
                  "blur: the opposite failure, kept apart from the blurry-VAE claim.")
    mlps = _gan_family(bench, claim, architecture="mlp")
    for g in mlps:
        claim.comparisons.append(compare(f"{g} sharpness vs 1", f"{g} sharpness", bench.values(g, "sharpness"), ">",
                                         "bar 1 (the data)", [1.0], kind="one-sample"))
    claim.details += _no_runs_note(bench, tuple(mlps))
    return combine(claim)


def claim_gan_drops_classes(bench: Benchmark) -> Claim:
    claim = Claim("gan-drops-classes", f"The plain GAN drops modes on {bench.dataset_title}: recall below precision, "
                  "classes covered unevenly",
                  "A plain GAN's samples are realistic (precision) but cover the data only in part: over the same "
                  "runs its recall is lower than its precision, and the class histogram of its samples is further "
                  "from uniform (`mode_kl`) than the VAE's, a likelihood model that covers every class.")
    pairs = [(r.metrics["recall"], r.metrics["precision"]) for r in bench.runs_of("gan")
             if "recall" in r.metrics and "precision" in r.metrics]
    claim.comparisons.append(compare("gan recall vs precision", "gan recall", [p[0] for p in pairs], "<",
                                     "gan precision", [p[1] for p in pairs], kind="paired"))
    claim.comparisons.append(compare("gan vs vae class histogram", "gan mode_kl", bench.values("gan", "mode_kl"), ">",
                                     "vae mode_kl", bench.values("vae", "mode_kl")))
    claim.details += _no_runs_note(bench, ("gan", "vae"))
    return combine(claim)


def _label_accuracies(bench: Benchmark) -> tuple[np.ndarray, dict[str, list[float]]]:
    """cGAN's label accuracy per ok run (metric ``label_accuracy``, else the mean of ``per_class``)."""
    vals, per_class = [], {}
    for r in bench.runs_of("cgan"):
        for name, a in r.class_accuracies.items():
            per_class.setdefault(name, []).append(a)
        if "label_accuracy" in r.metrics:
            vals.append(r.metrics["label_accuracy"])
    return np.array(vals, dtype=float), per_class


def claim_cgan_labels(bench: Benchmark) -> Claim:
    claim = Claim("cgan-labels", "cGAN, asked for class k, produces class k",
                  f"The evaluator classifies cGAN samples generated for class k as class k: the mean label "
                  f"accuracy over classes is above {LABEL_ACCURACY_BAR} (chance is 1/{bench.num_classes or '?'}).")
    acc, per_class = _label_accuracies(bench)
    claim.comparisons.append(compare("cgan label accuracy vs bar", "cgan label_accuracy", acc, ">",
                                     f"bar {LABEL_ACCURACY_BAR}", [LABEL_ACCURACY_BAR], kind="one-sample"))
    if per_class:
        claim.details.append("Per-class accuracy (mean over seeds, from the records' `per_class`):")
        claim.details.append("")
        claim.details.append("| class | accuracy | n |")
        claim.details.append("|---|---|---|")
        for name, v in per_class.items():
            m, s = mean_std(v)
            claim.details.append(f"| {name} | {fmt_mean_std(m, s)} | {len(v)} |")
        worst = min(per_class, key=lambda k: np.mean(per_class[k]))
        claim.details.append("")
        claim.details.append(f"Worst class: {worst} ({fmt(float(np.mean(per_class[worst])))}).")
    claim.details += _no_runs_note(bench, ("cgan",))
    return combine(claim)


def claim_ae_prior(bench: Benchmark) -> Claim:
    worse = _worse(bench, "fid")
    claim = Claim("ae-prior-worse", "AE samples decoded from N(0, I) codes are far worse than VAE samples",
                  "The FID of AE decodes of z ~ N(0, I) (`fid_normal_prior` of ae) is worse than the VAE's FID "
                  "(`fid` of vae): an AE's code space is not shaped like its sampling prior.")
    ae, vae = bench.values("ae", "fid_normal_prior"), bench.values("vae", "fid")
    claim.comparisons.append(compare("ae N(0,I) decodes vs vae", "ae fid_normal_prior", ae, worse, "vae fid", vae))
    if ae.size and vae.size and np.mean(vae) != 0:
        claim.details.append(f"Ratio of the means (ae fid_normal_prior / vae fid): {fmt(float(np.mean(ae) / np.mean(vae)))}.")
        claim.details.append("")
    if "fid" in bench.metric_names() and bench.values("ae", "fid").size:
        m, s = mean_std(bench.values("ae", "fid"))
        claim.details.append(f"For reference, the AE's `fid` (its own samples: decodes of codes from a Gaussian fitted to "
                             f"its training codes): {fmt_mean_std(m, s)}.")
    claim.details += _no_runs_note(bench, ("ae", "vae"))
    return combine(claim)


def claim_gan_collapse(bench: Benchmark) -> Claim:
    claim = Claim("gan-fewer-modes", "The plain GAN covers fewer modes than WGAN (mode collapse)",
                  f"On {bench.dataset or bench.name}, the plain GAN's `modes_covered` is lower than WGAN's.")
    claim.comparisons.append(compare("gan vs wgan", "gan modes_covered", bench.values("gan", "modes_covered"), "<",
                                     "wgan modes_covered", bench.values("wgan", "modes_covered")))
    claim.details += _no_runs_note(bench, ("gan", "wgan"))
    return combine(claim)


def claim_gan_recall(bench: Benchmark) -> Claim:
    claim = Claim("gan-recall-below-precision", "The plain GAN's recall is lower than its precision",
                  "A collapsed GAN makes realistic samples (precision) of few modes (recall): over the same runs, "
                  "the plain GAN's recall is lower than its precision.")
    pairs = [(r.metrics["recall"], r.metrics["precision"]) for r in bench.runs_of("gan")
             if "recall" in r.metrics and "precision" in r.metrics]
    rec = [p[0] for p in pairs]
    prec = [p[1] for p in pairs]
    c = compare("gan recall vs precision", "gan recall", rec, "<", "gan precision", prec, kind="paired")
    if not pairs and "precision" not in bench.metric_names():
        c.reason = "precision/recall were not measured on this benchmark"
    claim.comparisons.append(c)
    return combine(claim)


# remedy -> (what it is, what the literature reports), for the "covers more modes" claims
REMEDIES = {
    "pack": ("packing (PacGAN, Lin et al. 2018)",
             "Lin et al. 2018 (Tables 1 and 2): ring GAN 6.3 of 8 modes, PacGAN2 7.9; grid GAN 17.3 of 25, "
             "PacGAN4 24.8; Stacked MNIST DCGAN 99 of 1000, PacDCGAN2 1000"),
    "minibatch_std": ("minibatch standard deviation (ProGAN, Karras et al. 2018)",
                      "Karras et al. 2018 (Section 3) add the batch's standard deviation to D so that G's samples "
                      "vary more (a better sliced Wasserstein distance), and their appendix counts the modes of "
                      "Stacked MNIST recovered with crippled discriminators (K = 4, Metz et al.'s test) against "
                      "earlier GANs; genzoo's references hold no number of theirs for Fashion-MNIST or "
                      "these networks"),
    "minibatch_discrimination": ("minibatch discrimination (Salimans et al. 2016)",
                                 "Salimans et al. 2016 (Section 3.2) let D compare each sample with the rest of the "
                                 "batch so that a collapsing G is caught; they show it qualitatively, with no mode "
                                 "counts"),
    "replay": ("experience replay of past samples",
               "Pfau & Vinyals 2016 and Shrivastava et al. 2017 show D past generated samples so that G cannot "
               "cycle between modes; no mode counts on these mixtures"),
}


def _at_equal_images(bench: Benchmark, claim: Claim, model: str, base: str, metric: str, relation: str) -> None:
    """The comparison ``model <relation> base`` on ``metric``, the base scored after as many
    training images as ``model`` was shown: its final value when its own fit showed that many,
    else its value on the way (its records' ``at_steps``: the runner key ``score_at_steps``)."""
    items = bench.items_seen(model)
    left = bench.values(model, metric)
    right = bench.values_after(base, metric, items) if items is not None else np.array([])
    shown = f"{items:,} images" if items is not None else "the same images"
    c = compare(f"{model} vs {base} after {shown}", f"{model} {metric}", left, relation,
                f"{base} {metric} after {shown}", right)
    if items is None and bench.runs_of(model):
        c.reason = f"{model}'s runs do not record one number of training images shown"
    elif right.size == 0 and bench.runs_of(base):
        c.reason = (f"{base} was not scored after {shown} (its own fit shows {bench.items_seen(base) or '?'}; "
                    f"score_at_steps scores it on the way)")
    claim.comparisons.append(c)


def claim_remedy(bench: Benchmark, remedy: str) -> Claim | None:
    """Each model of this benchmark that applies ``remedy`` covers more modes than the model it
    modifies (what each declares: ``variant_of``, ``remedy``; same steps), or than the model it
    improves on (``improves_on``: a model of its own, compared after the same images shown); None
    when none ran here."""
    pairs = [(m, declared(m, "variant_of") or declared(m, "improves_on")) for m in bench.models
             if declared(m, "remedy") == remedy]
    pairs = [(m, base) for m, base in pairs if base in bench.models]
    if not pairs:
        return None
    what, literature = REMEDIES[remedy]
    names = ", ".join(f"{m} than {base}" for m, base in pairs)
    claim = Claim(f"{remedy}-more-modes", f"A GAN with {what.split(' (')[0]} covers more modes ({names})",
                  f"On {bench.dataset or bench.name}, each model with {what} covers more modes (`modes_covered`) "
                  f"than the model it modifies (or, a model of its own, than the model its paper improves on, "
                  f"after as many training images), as the literature reports: {literature}.")
    for m, base in pairs:
        if declared(m, "variant_of"):
            claim.comparisons.append(compare(f"{m} vs {base}", f"{m} modes_covered", bench.values(m, "modes_covered"),
                                             ">", f"{base} modes_covered", bench.values(base, "modes_covered")))
        else:
            _at_equal_images(bench, claim, m, base, "modes_covered", ">")
            claim.details += _quality_after(bench, m, base)
    claim.details += _no_runs_note(bench, tuple(dict.fromkeys(x for p in pairs for x in p)))
    return combine(claim)


QUALITY = ("fid", "precision")      # how far the samples whose modes are counted are from the data


def _quality_after(bench: Benchmark, model: str, base: str) -> list[str]:
    """A line with the FID and precision of both sides after the same images: modes counted on
    samples still far from the data (early in training) say little about collapse."""
    items = bench.items_seen(model)
    if items is None:
        return []
    parts = []
    for metric in QUALITY:
        mine, theirs = bench.values(model, metric), bench.values_after(base, metric, items)
        if mine.size and theirs.size:
            parts.append(f"{metric} {model} {fmt_mean_std(*mean_std(mine))}, {base} {fmt_mean_std(*mean_std(theirs))}")
    return [f"After {items:,} images: " + "; ".join(parts) + "."] if parts else []


def claim_fid_at_equal_images(bench: Benchmark) -> Claim | None:
    """Each model that declares the model its paper improves on (``improves_on``: ProGAN and
    StyleGAN, DCGAN) has a better FID than it after the same number of training images; None when
    no such pair ran here."""
    pairs = [(m, declared(m, "improves_on")) for m in bench.models if declared(m, "improves_on", "")]
    pairs = [(m, base) for m, base in pairs if base in bench.models]
    if not pairs:
        return None
    names = ", ".join(f"{m} than {base}" for m, base in pairs)
    papers = " and ".join(sorted({p for m, _ in pairs if (p := declared(m, "paper", ""))})) or "their papers"
    claim = Claim("fid-at-equal-images", f"The later GANs have a better FID at the same number of images shown ({names})",
                  f"On {bench.dataset_title} each model's FID is better than that of the model its paper improves on "
                  f"({names}), both scored after the same number of training images, as {papers} compare their "
                  "models with the GANs before them (at their own data and budgets, millions of images; here the "
                  "budget is the profile's). Where the base's own budget is longer, its value is the score on the "
                  "way (`at_steps`) after the model's images.")
    better = "<" if not bench.higher_is_better("fid") else ">"
    for m, base in pairs:
        _at_equal_images(bench, claim, m, base, "fid", better)
    claim.details += _no_runs_note(bench, tuple(dict.fromkeys(x for p in pairs for x in p)))
    return combine(claim)


EQUILIBRIUM_TOL = 0.05        # "near": within this of the equilibrium value


def equilibrium_loss(model: str):
    """What ``model`` declares it logs at the equilibrium D = 1/2 (its class's ``equilibrium_loss``:
    logged key, value, what it is), or None: a model that declares none, or no longer registered."""
    try:
        return declared(model, "equilibrium_loss")
    except AttributeError:       # a family without the declaration (the autoencoders)
        return None


def _no_equilibrium_runs() -> str:
    """Why the claim has nothing to test: "neither gan nor lsgan has records in this benchmark",
    naming the registered models (not the named variants) that declare their equilibrium loss."""
    from genzoo.models import list_models  # noqa: PLC0415

    names = [m for m in list_models() if equilibrium_loss(m) is not None and not declared(m, "variant_of")]
    if not names:
        return "no registered model declares its loss at the equilibrium"
    if len(names) == 1:
        return f"{names[0]} has no records in this benchmark"
    who = f"neither {names[0]} nor {names[1]}" if len(names) == 2 else f"none of {', '.join(names)}"
    return f"{who} has records in this benchmark"


def _final_values(run, keys, share: float = 0.1) -> dict[str, float] | None:
    """The mean of each logged value over the last ``share`` of a run's steps (history.csv.gz)."""
    from .figures import Problems, load_history

    h = load_history(run, Problems())
    if h is None or not set(keys) <= set(h.columns):
        return None
    tail = h.tail(max(1, int(len(h) * share)))
    return {k: float(tail[k].mean()) for k in keys}


def claim_equilibrium(bench: Benchmark) -> Claim:
    tol = EQUILIBRIUM_TOL
    claim = Claim("gan-equilibrium", "On the 1010 pattern a GAN ends at the game's equilibrium: D(x) = D(G(z)) = 1/2",
                  f"Rashid's smallest GAN (\"Make Your First GAN With PyTorch\"): trained on the 4-value pattern "
                  f"1010, D can no longer tell real from generated, so D(x) and D(G(z)) are 1/2 and the losses "
                  f"sit at their value there: the plain GAN's generator BCE loss at ln 2, LSGAN's D loss (MSE) at "
                  f"1/4. Per seed, the mean over the last 10% of the steps; near = within {tol} (one-sample test "
                  f"of the distance against {tol}).")
    for model in bench.models:              # the models that declare their loss at the equilibrium
        at_equilibrium = equilibrium_loss(model)
        if at_equilibrium is None:
            continue
        loss_key, target, what = at_equilibrium
        finals = [v for v in (_final_values(r, ("d_real", "d_fake", loss_key)) for r in bench.runs_of(model)) if v]
        for key, goal, label in (("d_real", 0.5, "D(x)"), ("d_fake", 0.5, "D(G(z))"), (loss_key, target, what)):
            dist = [abs(v[key] - goal) for v in finals]
            claim.comparisons.append(compare(f"{model} {label} near {goal:.3g}", f"|{model} {key} - {goal:.3g}|", dist,
                                             "<", f"bar {tol}", [tol], kind="one-sample"))
        if finals:
            claim.details.append(f"{model}, final values per seed: " + "; ".join(
                ", ".join(f"{k} {v[k]:.3f}" for k in v) for v in finals) + ".")
    if not claim.comparisons:
        claim.reason = _no_equilibrium_runs()
        return claim
    return combine(claim)


def _image_claims(bench: Benchmark) -> list[Claim]:
    """The textbook image claims; those about classes only where the data has more than one."""
    with_classes = (bench.num_classes or 1) > 1
    later = [c for c in (claim_fid_at_equal_images(bench),) if c is not None]
    return [claim_vae_fid(bench), claim_vae_sharpness(bench), claim_mlp_gan_noisy(bench),
            *([claim_gan_drops_classes(bench), claim_cgan_labels(bench)] if with_classes else []),
            claim_ae_prior(bench), *([claim_cgan_within_class(bench)] if with_classes else []), *later]


def _mode_claims(bench: Benchmark) -> list[Claim]:
    """Mode collapse, each remedy that ran here, and recall against precision."""
    remedies = [c for c in (claim_remedy(bench, r) for r in REMEDIES) if c is not None]
    return [claim_gan_collapse(bench), *remedies, claim_gan_recall(bench)]


# the claim sets a dataset declares (DatasetInfo.claims) -> the claims they hold
CLAIM_SETS = {"images": _image_claims, "modes": _mode_claims, "equilibrium": lambda bench: [claim_equilibrium(bench)]}


def claims_for(bench: Benchmark) -> list[Claim]:
    """The claims that apply to a benchmark: the claim sets its dataset declares
    (``DatasetInfo.claims``, :data:`CLAIM_SETS`), in the declared order; none for a dataset that is
    not registered."""
    info = bench.info
    if info is None:
        return []
    return [c for name in info.claims if name in CLAIM_SETS for c in CLAIM_SETS[name](bench)]


# ----------------------------------------------------------------------------- claims.md
def _side(values: list[float]) -> str:
    if not values:
        return "– (n=0)"
    m, s = mean_std(values)
    return f"{fmt_mean_std(m, s)} (n={len(values)})"


def _exact_cell(k: Comparison) -> str:
    if not k.exact_test:
        return "–"
    return f"{k.exact_test}, " + (f"all {k.exact_relabelings:,}" if k.exact_enumerated
                                  else f"{k.exact_relabelings:,} drawn at random (seed {MONTE_CARLO_SEED})")


def _comparison_row(k: Comparison) -> str:
    right = fmt(k.right_values[0]) + " (fixed)" if k.test == TEST_NAMES["one-sample"] else _side(k.right_values)
    return (f"| {k.label} | {k.left} {k.relation} {k.right} | {_side(k.left_values)} | {right} "
            f"| {fmt(k.diff)} | {k.test} | {fmt(k.statistic)} | {fmt_p(k.p)} | {_exact_cell(k)} "
            f"| {fmt_p(k.p_exact)} | {k.verdict} |")


def exact_floor(k: Comparison) -> str | None:
    """The sentence saying that the seeds of ``k`` are too few for its permutation test to reach
    p < ALPHA (None when they are not, or when it was not made)."""
    if not k.exact_test or not (k.p_exact_min >= ALPHA):
        return None
    n1, n2, floor = k.n_left, k.n_right, fmt(k.p_exact_min)
    if k.exact_test == EXACT_NAMES["welch"]:
        seeds = f"{n1} seeds a side" if n1 == n2 else f"{n1} and {n2} seeds"
        return (f"with {seeds} the exact permutation test cannot go below p = {floor} "
                f"(1 of C({n1 + n2}, {n1}) = {k.exact_relabelings:,} relabelings)")
    seeds = f"{n1} paired seeds" if k.exact_test == EXACT_NAMES["paired"] else f"{n1} seeds against the bar"
    return f"with {seeds} the sign-flip test cannot go below p = {floor} (1 of 2^{n1} = {k.exact_relabelings:,} sign flips)"


def exact_floor_notes(claim: Claim) -> list[str]:
    """One line per distinct floor: which comparisons' seeds cannot reach p < ALPHA by permutation."""
    labels: dict[str, list[str]] = {}
    for k in claim.comparisons:
        note = exact_floor(k)
        if note:
            labels.setdefault(note, []).append(k.label)
    return [f"Too few seeds for the permutation test ({', '.join(ls)}): {note}, so it cannot reach p < {ALPHA} "
            "whatever the values; the verdict rests on the t-test." for note, ls in labels.items()]


def claims_markdown(bench: Benchmark, claims: list[Claim], header: str = "") -> str:
    out = [f"# Claims: {bench.name}", ""]
    if header:
        out += [header, ""]
    out += ["## Verdict rule", "", VERDICT_RULE, ""]
    if not claims:
        out += ["No claims are defined for this benchmark's dataset "
                f"({bench.dataset or 'unknown'}).", ""]
        return "\n".join(out)
    out += ["## Overview", "", "| # | claim | verdict | why |", "|---|---|---|---|"]
    for i, c in enumerate(claims, 1):
        out.append(f"| {i} | {c.title} | **{c.verdict}** | {c.reason} |")
    out.append("")
    for i, c in enumerate(claims, 1):
        out += [f"## {i}. {c.title}", "", f"Claim (`{c.id}`): {c.statement}", "",
                f"Verdict: **{c.verdict}** — {c.reason}", "",
                "| comparison | claimed | left: mean ± std (n) | right: mean ± std (n) | difference | test | statistic "
                "| p | permutation test (not in the verdict) | permutation p | verdict |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        out += [_comparison_row(k) for k in c.comparisons] + [""]
        for note in exact_floor_notes(c):
            out += [note, ""]
        if c.details:
            out += c.details + [""]
    return "\n".join(out)
