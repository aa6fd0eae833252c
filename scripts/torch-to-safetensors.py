#!/usr/bin/python3
"""Convert a torchvision VGG or AlexNet to a safetensors file strata starts
from (model.weights), with the class names in its `classes` metadata.

  scripts/torch-to-safetensors.py MODEL OUT.safetensors [--state-dict FILE.pth | --random]
                                  [--classes FILE]

MODEL: alexnet, vgg11, vgg13, vgg16, vgg19, or a _bn variant (vgg16_bn ...).
By default torchvision's ImageNet weights are used (downloaded by torchvision
into ~/.cache/torch the first time); --state-dict FILE.pth reads a state_dict
saved with torch.save instead; --random writes a randomly initialised model
(to try the tool chain without the download).

The tensor names are PyTorch's state_dict keys (features.0.weight ...
classifier.6.bias), which are strata's for `arch: vgg` (torchvision's layout)
and `arch: alexnet` with `variant: torchvision`. The `classes` metadata
(names joined by newlines, one per output of the model's last layer) comes
from --classes FILE (one name per line), else from the torchvision weights'
ImageNet categories; with --random or --state-dict and no --classes there is
none, and `strata predict` then takes --classes FILE or data.root's folders.

Needs python3-torch and python3-torchvision (Debian: apt-get install
python3-torch python3-torchvision); strata itself does not.
"""
import argparse, os, sys

try:
    import torch, torchvision
except ImportError as e:
    sys.exit(f"torch-to-safetensors: {e}: this script needs PyTorch and torchvision "
             "(Debian: apt-get install python3-torch python3-torchvision; strata itself does not)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from strata_safetensors import write_safetensors

MODELS = ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]

def build(name, mode, state_dict):
    """(model, categories or None)."""
    if mode == "download":
        weights = torchvision.models.get_model_weights(name).DEFAULT
        return torchvision.models.get_model(name, weights=weights), list(weights.meta["categories"])
    model = torchvision.models.get_model(name, weights=None)
    if state_dict:
        model.load_state_dict(torch.load(state_dict, map_location="cpu"), strict=True)
    return model, None

def read_classes(path, n_out):
    with open(path, encoding="utf-8") as f:
        names = [line.rstrip("\r\n") for line in f]
    if len(names) != n_out or not all(names):
        sys.exit(f"torch-to-safetensors: {path}: {len(names)} class names (one per line, none empty), "
                 f"the model has {n_out} outputs")
    return names

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", choices=MODELS)
    p.add_argument("out")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--state-dict", metavar="FILE.pth", help="a state_dict saved with torch.save")
    src.add_argument("--random", action="store_true", help="random weights (no download)")
    p.add_argument("--classes", metavar="FILE", help="class names, one per line")
    a = p.parse_args()
    mode = "random" if a.random else "file" if a.state_dict else "download"
    model, categories = build(a.model, mode, a.state_dict)
    sd = {k: (v.float() if v.is_floating_point() else v.long()) for k, v in model.state_dict().items()}
    n_out = model.classifier[-1].out_features
    names = read_classes(a.classes, n_out) if a.classes else categories
    meta = {"format": "strata-weights-1", "model": f"torchvision {a.model}", "source": mode}
    if names:
        meta["classes"] = "\n".join(names)
    write_safetensors(a.out, sd, meta)
    params = sum(v.numel() for k, v in sd.items() if v.is_floating_point())
    print(f"{a.out}: {len(sd)} tensors, {params} values, {n_out} outputs, "
          f"{'%d class names' % len(names) if names else 'no class names'} ({mode} weights)")

main()
