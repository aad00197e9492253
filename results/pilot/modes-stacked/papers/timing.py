"""Seconds per training step of the stacked benchmark's candidate networks, one thread:
the fit of n2 steps minus the fit of n1 steps, over (n2 - n1). Usage (from the repository root):
OMP_NUM_THREADS=1 python results/pilot/modes-stacked/papers/timing.py dcgan-genzoo-w16 dcgan-T2-quarter ..."""
import sys, time, torch, genzoo
torch.set_num_threads(1)
ds = genzoo.data.load("stacked-fashion-mnist", n=4000, seed=0)
T2 = dict(g_layers=4, d_layers=4, kernel=5)
cases = {
 "dcgan-genzoo-w16": ("dcgan", dict(g_width=16, d_width=16)),
 "dcgan-T2-full": ("dcgan", dict(T2, g_width=32, d_width=64)),
 "dcgan-T2-half": ("dcgan", dict(T2, g_width=16, d_width=32)),
 "dcgan-T2-quarter": ("dcgan", dict(T2, g_width=8, d_width=16)),
 "pacdcgan2-T2-quarter-b128": ("pacdcgan2", dict(T2, g_width=8, d_width=16, batch_size=128)),
 "dcgan-smalld": ("dcgan-smalld", {}),
 "pacdcgan2-smalld": ("pacdcgan2-smalld", {}),
}
for key in sys.argv[1:]:
    name, over = cases[key]
    n1, n2 = (3, 13) if "full" in key else (10, 60)
    ts = []
    for n in (n1, n2):
        m = genzoo.get_model(name, max_steps=n, **over)
        t = time.perf_counter(); m.fit(ds, seed=0, device="cpu"); ts.append(time.perf_counter() - t)
    g = sum(p.numel() for p in m.nets_["G"].parameters()); d = sum(p.numel() for p in m.nets_["D"].parameters())
    print(f"{key}: {(ts[1]-ts[0])/(n2-n1):.4f} s/step  G {g:,} D {d:,}", flush=True)
