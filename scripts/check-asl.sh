#!/usr/bin/env bash
# Validates Amazon States Language definitions (JSON files) with the npm package asl-validator:
# its JSON schema of the States Language plus its JSONPath and ARN checks.
#
#   scripts/check-asl.sh FILE.json...      validate each file; a CloudFormation template in JSON
#                                          (top-level "Resources") has each
#                                          AWS::StepFunctions::StateMachine's Definition validated
#   scripts/check-asl.sh -                 validate a definition read from stdin
#   scripts/check-asl.sh                   validate the corpus asl/tests/valid/*.json
#
# asl-validator is installed into .tools/node (git-ignored) when missing, at the version pinned in
# scripts/install-tools.sh. Exit code 0 when every definition is valid, 1 otherwise, 2 on usage or
# installation errors.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_prefix="$repo_root/.tools/node"
validator="$node_prefix/bin/asl-validator"

pinned="$(sed -n 's/^ASL_VALIDATOR_VERSION="\(.*\)"$/\1/p' "$repo_root/scripts/install-tools.sh" 2>/dev/null | head -n1)"
version="${pinned:-4.0.0}"

if [ ! -x "$validator" ]; then
    command -v npm >/dev/null 2>&1 || { echo "check-asl: npm is not on PATH (Debian: apt-get install npm)" >&2; exit 2; }
    echo "check-asl: installing asl-validator@$version into .tools/node" >&2
    npm install --global --prefix "$node_prefix" --no-audit --no-fund --loglevel=error \
        "asl-validator@$version" >&2 \
        || { echo "check-asl: npm could not install asl-validator@$version" >&2; exit 2; }
fi

if [ "$#" -eq 0 ]; then
    set -- "$repo_root"/asl/tests/valid/*.json
fi

status=0
for file in "$@"; do
    if [ "$file" = "-" ]; then
        definition="$(cat)"
        "$validator" --json-definition "$definition" || status=1
    elif [ -f "$file" ]; then
        # One definition per line: the file itself, or each state machine Definition of a template.
        definitions="$(node -e '
            const doc = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            if (doc && typeof doc === "object" && doc.Resources) {
                for (const [id, r] of Object.entries(doc.Resources)) {
                    if (r.Type === "AWS::StepFunctions::StateMachine" && r.Properties && r.Properties.Definition) {
                        console.log(id + "\t" + JSON.stringify(r.Properties.Definition));
                    }
                }
            }' "$file")" || { echo "check-asl: $file is not valid JSON" >&2; status=1; continue; }
        if [ -z "$definitions" ]; then
            "$validator" --json-path "$file" || status=1
        else
            while IFS=$'\t' read -r resource definition; do
                echo "check-asl: $file: $resource"
                "$validator" --json-definition "$definition" || status=1
            done <<< "$definitions"
        fi
    else
        echo "check-asl: no such file: $file" >&2
        exit 2
    fi
done
exit "$status"
