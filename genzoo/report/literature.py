"""genzoo's numbers beside the published ones, saying which comparisons are meaningful.

Which published tables a benchmark is set beside is what its dataset declares
(``DatasetInfo.literature``, :data:`SECTIONS`): ``"lucic-fashion"``, ``"lucic-mnist"``,
``"lucic-cifar10"``, ``"lucic-celeba"`` (FID tables: :class:`FidSection`), ``"stacked"`` (Stacked
Fashion-MNIST, compared loosely) and ``"stacked-mnist"`` (VEEGAN / PacGAN's own protocol),
``"mixtures"`` (the 2-D rings and grids); ``""``: none. The numbers are those of
``../shared/references.md``, each table saying where it comes from."""

from __future__ import annotations

from dataclasses import dataclass

from .records import Benchmark, declared
from .summary import fmt_mean_std, mean_std


@dataclass(frozen=True)
class Published:
    """One published table of FIDs: how its rows are labelled (``source``) and, per published model
    name, its FID as printed."""

    source: str
    rows: dict[str, str]


@dataclass(frozen=True)
class FidSection:
    """A dataset's section of published FIDs: its heading, what the published numbers are, their
    tables, what genzoo's own ``fid`` is computed on (``evaluator``), the ordering agreement is
    expected in, what else differs (``note``, may be empty), and Lucic et al.'s search as the sweep
    report cites it beside a swept model (``search``)."""

    heading: str
    published: str
    tables: tuple[Published, ...]
    evaluator: str
    ordering: str
    search: str
    note: str = ""
    sources: str = ""        # the papers of its tables besides Lucic et al.'s and Dai & Wipf's, for the Sources line

    def lucic(self) -> dict[str, str]:
        """The rows of Lucic et al.'s table (the first table labelled ``Lucic``)."""
        return next((t.rows for t in self.tables if t.source == "Lucic"), {})


# Lucic et al. 2018 (as reprinted by Dai & Wipf 2019, Table 1), Inception FID, mean ± std
LUCIC_FASHION_FID = {
    "MM GAN": "29.6 ± 1.6", "NS GAN": "26.5 ± 1.6", "LSGAN": "30.7 ± 2.2", "WGAN": "21.5 ± 1.6",
    "WGAN-GP": "24.5 ± 2.1", "DRAGAN": "27.7 ± 1.2", "BEGAN": "22.9 ± 0.9",
}
DAI_WIPF_FASHION_FID = {"cross-entropy VAE": "43.6", "fixed-gamma VAE": "84.6", "learned-gamma VAE": "60.0"}
LUCIC_MNIST_FID = {
    "MM GAN": "9.8 ± 0.9", "NS GAN": "6.8 ± 0.5", "LSGAN": "7.8 ± 0.6", "WGAN": "6.7 ± 0.4",
    "WGAN-GP": "20.3 ± 5.0", "DRAGAN": "7.6 ± 0.4", "BEGAN": "13.1 ± 1.0",
}
DAI_WIPF_MNIST_FID = {"cross-entropy VAE": "16.6", "fixed-gamma VAE": "52.0", "learned-gamma VAE": "54.5"}
# Lucic et al. 2018, Table 2: the best Inception FID of the search (no spread printed)
LUCIC_CIFAR10_FID = {"NS GAN": "58.5", "WGAN": "55.2", "WGAN-GP": "55.8", "LSGAN": "87.1", "BEGAN": "71.4"}
LUCIC_CELEBA_FID = {"NS GAN": "55.0", "WGAN": "41.3", "WGAN-GP": "30.3", "LSGAN": "53.9", "BEGAN": "38.9"}
# other suites, CIFAR-10 (TF-Inception features, 50k samples) and CelebA 64x64
STUDIOGAN_CIFAR10_FID = {"DCGAN": "48.29", "LSGAN": "40.22", "WGAN": "107.68", "WGAN-GP": "53.98", "SNGAN": "9.01",
                         "BigGAN": "4.16", "StyleGAN2": "3.78", "StyleGAN2 + ADA": "2.31"}
MIMICRY_CIFAR10_FID = {"WGAN-GP": "22.29", "SNGAN": "16.77", "cGAN-PD": "10.84"}
STYLEGAN2_ADA_CIFAR10_FID = {"cifar configuration": "5.33"}
MIMICRY_CELEBA_FID = {"SNGAN": "5.71"}

VEEGAN_2D = {   # model: (ring modes of 8, ring % HQ, grid modes of 25, grid % HQ)
    "GAN": ("1", "99.3", "3.3", "0.5"), "ALI": ("2.8", "0.13", "15.8", "1.6"),
    "Unrolled GAN": ("7.6", "35.6", "23.6", "16"), "VEEGAN": ("8", "52.9", "24.6", "40"),
}
PACGAN_2D = {"GAN": ("6.3", "98.2", "17.3", "94.8"), "PacGAN2": ("7.9", "95.6", "–", "–"),
             "PacGAN4": ("7.8", "95.9", "24.8", "93.6")}
# the published 2-D layouts: dataset -> (its first column in VEEGAN_2D / PACGAN_2D, the layout as
# PacGAN's code draws it); a mixture dataset not listed here has no published numbers
MIXTURE_LAYOUTS = {"ring": (0, "8 Gaussians on the unit circle, std 0.01"),
                   "grid": (2, "25 Gaussians at {-4,-2,0,2,4}², std 0.05")}
STACKED_MNIST = {"DCGAN": ("99", "3.40"), "ALI": ("16", "5.40"), "Unrolled GAN": ("48.7", "4.32"),
                 "VEEGAN": ("150", "2.95"), "PacDCGAN2": ("1000", "0.06")}

_LUCIC_SEARCH = ("Lucic et al. 2018, Inception FID of the best setting of their search (100 wide and 50 narrow trials, "
                 "20 epochs), mean ± std over its re-runs")
_DAI_WIPF = ("Published (InceptionV3 features, 10k samples): Lucic et al. 2018 — GANs after a wide "
             "hyper-parameter search, 20 epochs — as reprinted in Dai & Wipf 2019, Table 1; and Dai & Wipf "
             "2019's VAEs on the same architecture, untuned. Dai & Wipf note that the GAN rows omit collapsed "
             "outlier runs.")

FID_SECTIONS = {
    "lucic-fashion": FidSection(
        "## Fashion-MNIST FID", _DAI_WIPF,
        (Published("Lucic", LUCIC_FASHION_FID), Published("Dai & Wipf", DAI_WIPF_FASHION_FID)),
        "genzoo's own Fashion-MNIST evaluator CNN", "GANs below VAEs", _LUCIC_SEARCH),
    "lucic-mnist": FidSection(
        "## MNIST FID", _DAI_WIPF,
        (Published("Lucic", LUCIC_MNIST_FID), Published("Dai & Wipf", DAI_WIPF_MNIST_FID)),
        "genzoo's own MNIST classifier (trained by genzoo on first use; each record's `scoring` names its "
        "weights)", "GANs below VAEs", _LUCIC_SEARCH),
    "lucic-cifar10": FidSection(
        "## CIFAR-10 FID",
        "Published: Lucic et al. 2018, Table 2 — the best Inception FID (10k samples against 10k test images) "
        "of a wide hyper-parameter search, 100 epochs of 50,000 images (78,125 discriminator steps of batch 64). "
        "Beside them, other suites' CIFAR-10 FIDs (TensorFlow Inception features, 50k samples): StudioGAN's "
        "benchmark, mimicry (ResNet backbones, 100k generator steps, 5 critic steps) and StyleGAN2-ADA's `cifar` "
        "configuration.",
        (Published("Lucic", LUCIC_CIFAR10_FID), Published("StudioGAN", STUDIOGAN_CIFAR10_FID),
         Published("mimicry", MIMICRY_CIFAR10_FID), Published("StyleGAN2-ADA", STYLEGAN2_ADA_CIFAR10_FID)),
        "genzoo's own CIFAR-10 classifier (trained by genzoo on first use; each record's `scoring` names its "
        "weights)", "the GANs among themselves",
        "Lucic et al. 2018 (Table 2), the best Inception FID of their search (100 wide and 50 narrow trials, "
        "100 epochs)",
        " The other suites' rows use 50k samples and ResNet or StyleGAN networks trained far longer: they show the "
        "scale modern GANs reach, not a target for genzoo's DCGAN-class networks.",
        "Kang et al. 2023, StudioGAN; Lee et al. 2020, Mimicry; Karras et al. 2020, StyleGAN2-ADA"),
    "lucic-celeba": FidSection(
        "## CelebA FID",
        "Published: Lucic et al. 2018, Table 2 — the best Inception FID (10k samples) of a wide "
        "hyper-parameter search on CelebA at 64x64, 40 epochs of 162,000 images (101,250 discriminator steps of "
        "batch 64). Beside them, mimicry's SNGAN on CelebA 64x64 (ResNet backbones, 100k generator steps).",
        (Published("Lucic", LUCIC_CELEBA_FID), Published("mimicry", MIMICRY_CELEBA_FID)),
        "genzoo's own CelebA attribute classifier (40 attributes, its penultimate features; trained by genzoo on "
        "first use, each record's `scoring` names its weights)", "the GANs among themselves",
        "Lucic et al. 2018 (Table 2), the best Inception FID of their search (100 wide and 50 narrow trials, "
        "40 epochs)",
        " CelebA has no classes: the class-histogram metrics do not apply; genzoo crops and resizes the aligned "
        "faces to 64x64 as DCGAN-era code does, which need not be the published papers' crop.",
        "Lee et al. 2020, Mimicry"),
}


def published_as(bench: Benchmark, row: str) -> list[str]:
    """The benchmark's models that declare ``row`` among their ``published_names`` (a Dai & Wipf
    VAE variant matches a model published as "VAE")."""
    def names(m):
        return declared(m, "published_names", ()) or ()
    return [m for m in bench.models if row in names(m) or (row.endswith(" VAE") and "VAE" in names(m))]


def _named(model: str) -> str:
    """A genzoo model with the published name it declares, if any: "pacgan4 (PacGAN4)"."""
    names = declared(model, "published_names", ()) or ()
    return f"{model} ({' / '.join(names)})" if names else model


def _ours(bench: Benchmark, model: str, metric: str, *, percent: bool = False) -> str:
    """Mean ± std (n) of a genzoo metric; ``percent``: a fraction in [0, 1] shown as a percentage."""
    v = bench.values(model, metric)
    if not v.size:
        return "not measured"
    if percent and (v <= 1).all():
        v = 100 * v
    m, s = mean_std(v)
    return f"{fmt_mean_std(m, s)} (n={v.size})"


def _hq_metric(bench: Benchmark) -> str | None:
    for m in ("high_quality_frac", "high_quality", "hq_frac"):
        if m in bench.metric_names():
            return m
    return None


def _fids(bench: Benchmark, section: FidSection) -> list[str]:
    """A FID section: each published row beside the genzoo models that declare its name, then the
    genzoo models no row names, and whether the numbers are comparable."""
    has_inception = "fid_inception" in bench.metric_names()
    out = [
        section.heading,
        "",
        section.published,
        "",
        "| published model | published FID | genzoo model | genzoo `fid_inception` | genzoo `fid` (evaluator features) |",
        "|---|---|---|---|---|",
    ]
    matched = set()
    for table in section.tables:
        for name, val in table.rows.items():
            ours = published_as(bench, name) or [None]
            for g in ours:
                matched.add(g)
                out.append(f"| {name} ({table.source}) | {val} | {g or '–'} | "
                           f"{_ours(bench, g, 'fid_inception') if g else '–'} | {_ours(bench, g, 'fid') if g else '–'} |")
    for g in bench.models:
        if g not in matched and bench.runs_of(g):
            out.append(f"| – | – | {g} | {_ours(bench, g, 'fid_inception')} | {_ours(bench, g, 'fid')} |")
    out += [
        "",
        f"**Comparable?** genzoo's `fid` is computed on the features of {section.evaluator}, not on InceptionV3 "
        "features: its scale is different and it is **not comparable** with the published numbers, only between "
        "genzoo models. `fid_inception` uses InceptionV3 features and is comparable in definition "
        + ("(present in these records)" if has_inception else "but **was not measured** in these records")
        + "; even then the published numbers come from tuned hyper-parameters, other architectures, other "
          f"training budgets and 10k samples, so agreement is expected only in order of magnitude and in the "
          f"ordering ({section.ordering})." + section.note + " genzoo models are set beside the published rows "
          "of the names they declare (`published_names`: "
        + ", ".join(f"`{m}` as {' / '.join(declared(m, 'published_names'))}"
                    for m in bench.models if declared(m, "published_names"))
        + "): the same loss, not the same network or tuning.",
        "",
    ]
    return out


def _two_d(bench: Benchmark) -> list[str]:
    layout = MIXTURE_LAYOUTS.get(bench.dataset)
    if layout is None:
        return [f"No published numbers are on file for the mixture {bench.dataset or 'unknown'}.", ""]
    i, drawn = layout
    k = bench.modes_total
    hq = _hq_metric(bench)
    out = [
        f"## 2-D mixture ({bench.dataset}): modes covered of {k}",
        "",
        "Published: VEEGAN (Srivastava et al. 2017) Table 1, and PacGAN (Lin et al. 2018) Table 1 "
        "(another architecture, 10 trials).",
        "",
        "| source | model | modes covered | % high quality |",
        "|---|---|---|---|",
    ]
    for name, row in VEEGAN_2D.items():
        out.append(f"| VEEGAN | {name} | {row[i]} | {row[i + 1]} |")
    for name, row in PACGAN_2D.items():
        out.append(f"| PacGAN | {name} | {row[i]} | {row[i + 1]} |")
    for g in bench.models:
        if bench.runs_of(g, ok_only=False):
            out.append(f"| genzoo | {_named(g)} | {_ours(bench, g, 'modes_covered')} | "
                       f"{_ours(bench, g, hq, percent=True) if hq else 'not measured'} |")
    out += [
        "",
        "**The remedies.** PacGAN's table is the one published measurement of a remedy on exactly this "
        "protocol: packing took the GAN from 6.3 to 7.9 ring modes (PacGAN2) and from 17.3 to 24.8 grid "
        "modes (PacGAN4) at about the same share of high-quality samples. genzoo's packed GANs are the same "
        "loss with genzoo's MLPs and budget; its other remedies (`remedy` of each model: minibatch standard "
        "deviation, minibatch discrimination, experience replay) have no published numbers on these mixtures, "
        "so the claims test them against genzoo's own plain GAN only.",
        "",
        "**Comparable?** Comparable in definition: the same layout (PacGAN's code: " + drawn
        + "), 2,500 scored samples, a sample is high quality within 3 standard deviations of its nearest "
          "mean, and a mode is covered when it has at least one high-quality sample. The architectures, "
          "optimisers and training budgets differ, and the published GAN numbers themselves differ widely "
          "between papers (VEEGAN's GAN 1 mode vs PacGAN's 6.3 on the ring), so compare tendencies, not "
          "decimals." + (f" genzoo's `{hq}` is shown as a percentage." if hq else ""),
        "",
    ]
    return out


_STACKED_FASHION = (
    "**Comparable?** Only loosely. genzoo's stacked benchmark stacks **Fashion-MNIST** images, not MNIST "
    "digits, and labels channels with genzoo's Fashion-MNIST evaluator, which is less accurate than an MNIST "
    "digit classifier, so some samples are counted in the wrong triple; the number of scored "
    "samples may differ from 26,000. The mode count has the same definition (distinct label triples "
    "among 1000), so it shows the same tendency, but the numbers are not on the same footing.")
_STACKED_MNIST = (
    "**Comparable?** In protocol, yes: the channels are three independent **MNIST** digits, each labelled by an "
    "MNIST digit classifier, modes are the distinct label triples among 1000 and the KL is to the uniform "
    "histogram, as in the papers. What differs: the classifier is genzoo's own (trained on first use; its "
    "test accuracy and weights are in each record's `scoring`), not the papers' pretrained one, so a "
    "different share of samples is counted in the wrong triple; the number of scored samples may differ from "
    "26,000 (each record's `scoring` says how many); and the networks and budgets are the benchmark profile's "
    "(Table 2's networks at full width and 100,000 steps only in the paper profile). Compare tendencies "
    "first, and the numbers where the profile is the papers'.")


def _stacked(bench: Benchmark, comparable: str) -> list[str]:
    kl = next((m for m in ("kl_modes", "mode_kl", "modes_kl", "kl") if m in bench.metric_names()), None)
    out = [
        "## Stacked images: modes covered of 1000",
        "",
        "Published: VEEGAN Table 2 and PacGAN in the same setup (Stacked **MNIST**, 26,000 samples, a pretrained MNIST classifier "
        "labels each channel, modes = distinct label triples, KL to uniform over 1000).",
        "",
        "| source | model | modes of 1000 | KL |",
        "|---|---|---|---|",
    ]
    for name, (modes, klv) in STACKED_MNIST.items():
        out.append(f"| {'PacGAN' if name.startswith('Pac') else 'VEEGAN'} | {name} | {modes} | {klv} |")
    for g in bench.models:
        if bench.runs_of(g, ok_only=False):
            out.append(f"| genzoo | {_named(g)} | {_ours(bench, g, 'modes_covered')} | {_ours(bench, g, kl) if kl else 'not measured'} |")
    out += ["", comparable, ""]
    return out


# the literature sections a dataset may declare (DatasetInfo.literature) -> what writes them
SECTIONS = {
    **{name: (lambda bench, s=section: _fids(bench, s)) for name, section in FID_SECTIONS.items()},
    "mixtures": _two_d,
    "stacked": lambda bench: _stacked(bench, _STACKED_FASHION),
    "stacked-mnist": lambda bench: _stacked(bench, _STACKED_MNIST),
}


def fid_section(dataset: str) -> FidSection | None:
    """The FID section the dataset declares (``DatasetInfo.literature``), None: none (or not a FID one)."""
    from genzoo.data import find_info  # noqa: PLC0415

    info = find_info(dataset)
    return FID_SECTIONS.get(info.literature) if info is not None else None


def literature_markdown(bench: Benchmark, header: str = "") -> str:
    out = [f"# {bench.name}: genzoo beside published numbers", ""]
    if header:
        out += [header, ""]
    info = bench.info
    section = SECTIONS.get(info.literature) if info is not None else None
    if section is not None:
        out += section(bench)
    else:
        out += [f"No published numbers are on file for dataset {bench.dataset or 'unknown'}.", ""]
    more = FID_SECTIONS[info.literature].sources if info is not None and info.literature in FID_SECTIONS else ""
    out += ["Sources: Lucic et al. 2018, \"Are GANs Created Equal?\"; Dai & Wipf 2019, \"Diagnosing and Enhancing "
            "VAE Models\"; Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN" + (f"; {more}" if more else "") + ".",
            ""]
    return "\n".join(out)
