#!/usr/bin/env bash
# Prove that the Binder environment is complete: build a clean virtualenv from only the files
# Binder (repo2docker) uses — binder/runtime.txt, binder/requirements.txt, binder/postBuild — in a
# copy of the repository's tracked files, then execute every chapter notebook in it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$(sed -n 's/^python-\([0-9.]*\).*/\1/p' "$root/binder/runtime.txt")
python=$(command -v "python$version" || true)
[ -n "$python" ] || { echo "binder check: python$version (binder/runtime.txt) not found"; exit 1; }

# The repository as Binder sees it: tracked files only (no .venv, no build output).
mkdir -p "$work/repo"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 tar -cf - --) | tar -xf - -C "$work/repo"

"$python" -m venv "$work/venv"
export PATH="$work/venv/bin:$PATH"
pip install --quiet --upgrade "pip>=24"
(cd "$work/repo/binder" && pip install --quiet -r requirements.txt)
(cd "$work/repo" && bash binder/postBuild > /dev/null)

cd "$work/repo"
export JAX_PLATFORMS=cpu HF_HUB_OFFLINE=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Two notebooks at a time (each mostly runs on one core); a failure prints the end of its traceback.
run_one() {
  local nb=$1 start
  start=$(date +%s)
  if ! jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
      --output-dir "$work/out" "$nb" > "$work/log.$(basename "$nb")" 2>&1; then
    echo "binder check: $nb failed to execute in the Binder environment"
    tail -20 "$work/log.$(basename "$nb")"
    return 1
  fi
  echo "binder check: $nb executed in $(( $(date +%s) - start )) s"
}
export -f run_one
export work
count=$(ls book/*.ipynb | wc -l)
printf '%s\0' book/*.ipynb | xargs -0 -n 1 -P 2 bash -c 'run_one "$0"' || exit 1
echo "binder check: $count notebooks executed in a clean virtualenv built from binder/ only"
