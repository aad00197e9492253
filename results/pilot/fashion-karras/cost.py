import sys, time, torch, json
torch.set_num_threads(1)
import genzoo
from genzoo.bench.spec import load_benchmark
from genzoo.bench.data import Data
b = load_benchmark("fashion"); d = Data(b, None)
spec = b.plan("tiny", models=["dcgan"], seeds=[0])[0]
train = d.train(spec.settings)
cases = json.loads(sys.argv[1])
for name, over in cases:
    m = genzoo.get_model(name, "default", **{**over, "max_steps": 30, "epochs": 1.0})
    t = time.perf_counter(); m.fit(train, seed=0, device="cpu"); dt = time.perf_counter()-t
    print(name, over, f"{dt/30*1000:.0f} ms/step", flush=True)
