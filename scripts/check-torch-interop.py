#!/usr/bin/python3
"""Cross-check strata against PyTorch (a manual check, not a test: it needs
python3-torch and python3-torchvision, which strata does not).

  scripts/check-torch-interop.py STRATA_BUILD_DIR WORK_DIR IMAGE...

1. trains 1 epoch of a torchvision-layout VGG (column A, 5 classes, 32 px,
   adaptive 7x7 pool) on data/flowers-mini with strata;
2. reads strata's last.safetensors with a small reader written here from the
   format's description (8-byte header length, JSON header, raw data), and
   loads it into torchvision.models.vgg11(num_classes=5) with
   load_state_dict(strict=True);
3. classifies IMAGE... with `strata predict` and with PyTorch (Resize((32, 32))
   + Normalize(0.5, 0.5), eval mode) and prints both probabilities and the
   largest difference;
4. writes torchvision's weights as safetensors from Python, starts a strata
   model from them (model.weights) and checks strata predicts the same.
"""
import json, os, subprocess, sys
import torch, torchvision
import torchvision.transforms as T
from PIL import Image
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from strata_safetensors import read_safetensors, write_safetensors

def strata(build, *args):
    return subprocess.run([os.path.join(build, "core", "strata"), *args], check=True, capture_output=True,
                          text=True).stdout

def predict(build, exp, weights, images):
    out = strata(build, "predict", "--weights", weights, "--experiment", exp, "--top", "5", "--json", *images)
    return {(d["image"], c["class"]): c["probability"] for d in json.loads(out) for c in d["top"]}

def main():
    build, work, images = os.path.abspath(sys.argv[1]), sys.argv[2], [os.path.abspath(p) for p in sys.argv[3:]]
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.makedirs(work, exist_ok=True); os.chdir(work)
    exp = os.path.join(work, "vgg-a-32.yaml")
    with open(exp, "w") as f:
        f.write(f"""name: interop
model: {{arch: vgg, column: A, num_classes: 5, input_size: 32}}
data: {{root: {src}/data/flowers-mini, val_fraction: 0.2}}
augment:
  train: [{{resize: {{size: [32, 32]}}}}, {{normalize: {{mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}}}}]
  val: [{{resize: {{size: [32, 32]}}}}, {{normalize: {{mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}}}}]
optimizer: {{name: sgd, lr: 0.01, momentum: 0.9}}
train: {{epochs: 1, batch_size: 16}}
""")
    print(strata(build, "run", exp).strip().splitlines()[-1])
    run_id = strata(build, "runs", "--json")
    run_id = json.loads(run_id)[-1]["id"]
    last = f"results/checkpoints/{run_id}/last.safetensors"
    sd, meta = read_safetensors(last)
    classes = meta["classes"].split("\n")
    model = torchvision.models.vgg11(num_classes=5)
    missing = model.load_state_dict(sd, strict=True)
    print(f"load_state_dict(strict=True) into torchvision vgg11: {missing}; {len(sd)} tensors; classes {classes}")
    model.eval()
    tf = T.Compose([T.Resize((32, 32)), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    ours = predict(build, exp, last, images)
    worst = 0.0
    with torch.no_grad():
        for img in images:
            p = torch.softmax(model(tf(Image.open(img).convert("RGB")).unsqueeze(0)), 1)[0]
            for i, c in enumerate(classes):
                worst = max(worst, abs(p[i].item() - ours[(img, c)]))
            print(os.path.basename(img), "torch", [round(v, 4) for v in p.tolist()],
                  "strata", [round(ours[(img, c)], 4) for c in classes])
    print(f"largest probability difference strata vs torch: {worst:.2e}")
    tv = torchvision.models.vgg11(num_classes=5)
    write_safetensors("torchvision.safetensors", tv.state_dict(), {"classes": "\n".join(classes)})
    ours = predict(build, exp, "torchvision.safetensors", images)
    tv.eval(); worst2 = 0.0
    with torch.no_grad():
        for img in images:
            p = torch.softmax(tv(tf(Image.open(img).convert("RGB")).unsqueeze(0)), 1)[0]
            worst2 = max(worst2, max(abs(p[i].item() - ours[(img, c)]) for i, c in enumerate(classes)))
    print(f"weights written by PyTorch, predicted by strata: largest probability difference {worst2:.2e}")

main()
