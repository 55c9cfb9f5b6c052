#!/usr/bin/env bash
# Builds the seed corpus of the `text_to_verdict` fuzz target, fuzz/seeds/text_to_verdict/,
# from the repository's test corpora, in the target's input format (see the top of
# fuzz/fuzz_targets/text_to_verdict.rs):
#
#   mode 0  HEADER RULE-TEXT 0xFF CASE-TEXT   both fuzzed
#   mode 1  HEADER K CASE-TEXT                shipped criterion CRITERIA[K], case fuzzed
#   mode 2  HEADER P C BODY                   amendment of PARENTS[P], shipped case C
#   mode 3  HEADER C RULE-TEXT                rule fuzzed, shipped case C
#
# HEADER = mode | format << 2 (format 0: YAML, 1: JSON, 2: JSON Lines).
# Run from anywhere: bash fuzz/make-seeds.sh. It replaces the folder's contents.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/fuzz/seeds/text_to_verdict"
cd "$root"
rm -rf "$out"
mkdir -p "$out"

# one raw byte, from a decimal number
byte() { printf "\\$(printf %03o "$1")"; }

format_of() {
  case "$1" in
    *.json) echo 1 ;;
    *.jsonl | *.ndjson) echo 2 ;;
    *) echo 0 ;;
  esac
}

# The order of the fuzz target's CRITERIA and PARENTS lists.
criteria=(
  rules/irano-2015.rano rules/irano-2015-bm.rano rules/irano-2015-lgg.rano rules/irrc-2009.rano
  rules/rano-bm-2015.rano rules/rano-hgg-2010.rano rules/rano-lgg-2011.rano
  tests/rules/ok/aggregates.rano tests/rules/ok/amend-chain.rano tests/rules/ok/amend-hgg.rano
  tests/rules/ok/dates-units.rano tests/rules/ok/lesion-lets.rano tests/rules/ok/match-defs.rano
  tests/rules/ok/minimal.rano tests/rules/ok/summary-windows.rano tests/rules/ok/targets-max-per.rano
)
parents=(rano-hgg-2010 irano-2015 rano-lgg-2011 rano-bm-2015 irrc-2009 irano-2015-lgg irano-2015-bm frozen-hgg amend-hgg)

index_of() { # NAME LIST... -> index of NAME in LIST
  local name=$1 i=0
  shift
  for x in "$@"; do
    [[ $x == "$name" ]] && { echo $i; return; }
    i=$((i + 1))
  done
  echo 0
}

# The shipped cases, in the fuzz target's order (path order, folder by folder).
cases=()
for f in tests/cases-ok/*; do cases+=("$f"); done
for d in $(ls tests/worked); do
  for f in $(ls "tests/worked/$d"); do cases+=("tests/worked/$d/$f"); done
done
case_index() { index_of "$1" "${cases[@]}"; }
# the first worked case of a criterion (its folder), or the first shipped case
first_case_of() {
  local f
  f=$(ls "tests/worked/$1" 2>/dev/null | head -n 1)
  if [[ -n $f ]]; then case_index "tests/worked/$1/$f"; else echo 0; fi
}

seed() { # NAME, then the bytes on stdin
  cat >"$out/$1"
}

# mode 1: a worked case (the first few of each criterion) or a case-corpus file, under
# its criterion
for d in $(ls tests/worked); do
  k=$(index_of "rules/$d.rano" "${criteria[@]}")
  for f in $(ls "tests/worked/$d" | head -n 6); do
    { byte 1; byte "$k"; cat "tests/worked/$d/$f"; } | seed "m1-$d-${f%%-*}"
  done
done
for f in tests/cases-ok/* tests/cases-err/*; do
  fmt=$(format_of "$f")
  { byte $((1 | fmt << 2)); byte 0; cat "$f"; } | seed "m1-$(basename "$(dirname "$f")")-$(basename "$f")"
done

# mode 0: each shipped criterion with one of its worked cases; each corpus criterion
# with a case-corpus file
for r in rules/*.rano; do
  id=$(basename "$r" .rano)
  w=$(ls "tests/worked/$id" 2>/dev/null | head -n 1 || true)
  c=${w:+tests/worked/$id/$w}
  c=${c:-tests/cases-ok/single.yaml}
  fmt=$(format_of "$c")
  { byte $((0 | fmt << 2)); cat "$r"; byte 255; cat "$c"; } | seed "m0-$id"
done
i=0
ok_cases=(tests/cases-ok/*)
for r in tests/rules/ok/*.rano; do
  c=${ok_cases[$((i % ${#ok_cases[@]}))]}
  i=$((i + 1))
  fmt=$(format_of "$c")
  { byte $((0 | fmt << 2)); cat "$r"; byte 255; cat "$c"; } | seed "m0-ok-$(basename "$r" .rano)"
done

# mode 2: an empty amendment of each parent on one of its worked cases, and the corpus
# amendments' bodies (the lines between `criterion ... {` and the last `}`)
for p in "${!parents[@]}"; do
  name=${parents[$p]}
  c=$(first_case_of "$name")
  { byte 2; byte "$p"; byte "$c"; } | seed "m2-$name-empty"
done
for r in tests/rules/ok/amend-*.rano; do
  parent=$(sed -n 's/^criterion "[^"]*" extends "\([^"]*\)".*/\1/p' "$r" | head -n 1)
  p=$(index_of "$parent" "${parents[@]}")
  c=$(first_case_of rano-hgg-2010)
  body=$(awk '/^criterion / && !started { started = 1; next } started { print }' "$r" | sed '$d')
  { byte 2; byte "$p"; byte "$c"; printf '%s\n' "$body"; } | seed "m2-$(basename "$r" .rano)"
done

# mode 3: the checker corpora (valid and invalid rule files) on a worked case
c=$(first_case_of rano-hgg-2010)
for r in tests/rules/ok/*.rano tests/rules/err/*.rano tests/rules/base/*.rano; do
  { byte 3; byte "$c"; cat "$r"; } | seed "m3-$(basename "$(dirname "$r")")-$(basename "$r" .rano)"
done

echo "wrote $(ls "$out" | wc -l) seeds to ${out#"$root"/} ($(cat "$out"/* | wc -c) bytes)"
