# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vouch_global_optspecs
    string join \n q/quiet v/verbose h/help V/version
end

function __fish_vouch_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vouch_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vouch_using_subcommand
    set -l cmd (__fish_vouch_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vouch -n "__fish_vouch_needs_command" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_needs_command" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_needs_command" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_needs_command" -s V -l version -d 'Print version'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "identity" -d 'Create, show or import the identity that signs media'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "sign" -d 'Sign media with a C2PA manifest (Content Credentials)'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "verify" -d 'Verify the C2PA manifests of media files: trusted, valid, invalid or absent'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "check" -d 'One verdict per file (pass, warn, fail) against a policy: credentials, signer, anchors; as text, JSON Lines, JUnit, SARIF or HTML'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "report" -d 'Merge `check` (and `detect`) JSON Lines records, such as the shards of one archive, into one report: text, JSON Lines, JUnit, SARIF or HTML'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "anchor" -d 'Anchor files to a public chain: one Merkle root per batch, a receipt per file'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "watch" -d 'A capture station: sign every file that lands in a folder and anchor them in batches, surviving crashes without repeating or losing a file'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "inspect" -d 'Show a file\'s manifest store: signer, actions, ingredients, assertions'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "trust" -d 'Manage the root certificates whose signers `verify` calls trusted'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "detect" -d 'Score images and videos for synthetic content with an ONNX detector'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "models" -d 'List detector model cards, or check that a model matches its card'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "doctor" -d 'Say what this install has: ONNX Runtime, FFmpeg, the detector models (their weights checked against their cards\' SHA-256), the public trust lists and the signing identity, and for each missing piece the command that fixes it'
complete -c vouch -n "__fish_vouch_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -f -a "new" -d 'Create an Ed25519 root CA and a signing certificate issued by it'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -f -a "show" -d 'Show the signing identity: subject, issuer, validity, fingerprints'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -f -a "import" -d 'Import an existing certificate chain and key (Ed25519, ES256, PS256…), refusing it with the reasons a C2PA validator would give'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and not __fish_seen_subcommand_from new show import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l name -d 'Name of the signer (the certificate\'s common name)' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l org -d 'Organisation (newsroom, agency) [default: NAME]. C2PA validators show it as the signer\'s issuer and require one' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l email -d 'Contact email, recorded in the certificate' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l identity -l dir -d 'Identity directory [default: $VOUCH_HOME/identity, where VOUCH_HOME defaults to the user\'s config dir + /vouch]. `--identity`, as in every other command (`--dir` is kept as an alias)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l days -d 'Validity of the signing certificate in days (the root lasts at least 10 years)' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l passphrase-env -d 'Read the key passphrase from this environment variable (never from a flag, so it stays out of shell history and process lists). Defaults to VOUCH_PASSPHRASE when that is set' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -l json -d 'Print one JSON object instead of text'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from show" -l identity -l dir -d 'Identity directory [default: $VOUCH_HOME/identity, where VOUCH_HOME defaults to the user\'s config dir + /vouch]. `--identity`, as in every other command (`--dir` is kept as an alias)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON object instead of text'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -l cert -d 'PEM certificate chain, signing certificate first (a trailing root is kept as root.pem)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -l key -d 'PKCS#8 PEM private key of the signing certificate' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -l identity -l dir -d 'Identity directory [default: $VOUCH_HOME/identity, where VOUCH_HOME defaults to the user\'s config dir + /vouch]. `--identity`, as in every other command (`--dir` is kept as an alias)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -l passphrase-env -d 'Read the key passphrase from this environment variable (never from a flag, so it stays out of shell history and process lists). Defaults to VOUCH_PASSPHRASE when that is set' -r
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -l json -d 'Print one JSON object instead of text'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from help" -f -a "new" -d 'Create an Ed25519 root CA and a signing certificate issued by it'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the signing identity: subject, issuer, validity, fingerprints'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from help" -f -a "import" -d 'Import an existing certificate chain and key (Ed25519, ES256, PS256…), refusing it with the reasons a C2PA validator would give'
complete -c vouch -n "__fish_vouch_using_subcommand identity; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l identity -d 'Identity directory [default: $VOUCH_HOME/identity]' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand sign" -s o -l out -d 'Write signed copies into OUTDIR, keeping file names (and folder layout)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l title -d 'Title recorded in the manifest [default: the file name]' -r
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l author -d 'Author recorded as `dc:creator` in a CAWG metadata assertion' -r
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l source-type -d 'IPTC digital source type of the content signed, recorded on `c2pa.created` [default: digital-capture]: e.g. digital-capture, composite, trained-algorithmic-media, algorithmically-enhanced, digital-creation, minor-human-edits, screen-capture, or a full IPTC URI. For a file that already has credentials vouch records only `c2pa.opened` (it did not edit the file) unless a type is given: then `c2pa.edited` with it says what the edit made' -r
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l tsa -d 'RFC 3161 time-stamping authority to timestamp each signature, so it stays trusted after the signing certificate expires [default: `tsa` in the identity\'s settings.toml]. If it is down or answers anything but a timestamp, nothing is written (exit 2)' -r
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l passphrase-env -d 'Read the key passphrase from this environment variable (never from a flag, so it stays out of shell history and process lists). Defaults to VOUCH_PASSPHRASE when that is set' -r
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l in-place -d 'Replace each original with its signed version (atomically)'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l sidecar -d 'Write the manifest to FILE.c2pa beside each file; originals stay byte-identical'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l force -d 'Overwrite outputs that already exist'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l allow-invalid-parent -d 'Sign an input whose own Content Credentials are invalid; by default it is refused, since a new signature would bury the failure in history'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -l json -d 'Print one JSON object per input per line'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand sign" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l trust -d 'Root certificate (PEM) to trust, in addition to `vouch trust` anchors and the local identity\'s root. Repeatable' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l identity -d 'Identity whose root is trusted [default: $VOUCH_HOME/identity]' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l receipt -d 'Anchor receipt (FILE.ots or FILE.anchor.json) to check against every PATH, besides the receipts found next to each file. Repeatable' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l headers -d 'Bitcoin block headers for offline checks of OpenTimestamps proofs: lines of `height header-hex` (80-byte headers as on the wire)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l bitcoin-rpc -d 'Bitcoin Core JSON-RPC URL (http://user:pass@host:8332) to fetch the block headers OpenTimestamps proofs need (getblockhash, getblockheader). Repeatable, and mixable with --esplora: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l esplora -d 'Esplora REST base URL to fetch the block headers OpenTimestamps proofs need. Repeatable: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l bitcoin-network -d 'The Bitcoin chain headers must belong to (regtest: for local test calendars; verdicts then name the chain bitcoin-regtest)' -r -f -a "mainnet\t'Bitcoin mainnet: targets checked against the compiled-in checkpoints'
regtest\t'A local regtest chain (for testing calendars): the fixed regtest target; verdicts name the chain `bitcoin-regtest`'"
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l rpc -d 'EVM JSON-RPC URL of the chain FILE.anchor.json receipts name: the transaction must exist there, carry the root and sit in the named block, every answer checked against the hashes that commit to it. Repeatable: independent nodes must agree on the block at that height' -r
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l confirmations -d 'Blocks (the anchoring one included) an EVM anchor needs to count as confirmed; fewer leave it pending' -r
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l timeout -d 'Seconds to wait for each request to a node or Esplora server' -r
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l allow-remote -d 'Fetch manifests that a file references by URL instead of embedding (off by default: verifying then contacts no one)'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l no-public-trust -d 'Trust only local anchors: the C2PA Trust List, the C2PA TSA Trust List and the interim Content Credentials list, on by default, then vouch for no one (see `vouch trust list`)'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -l json -d 'Print one JSON object per input per line'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand check" -l policy -d 'Policy file (TOML) with the requirements every file must meet; without one, files are only reported and fail only when something is invalid' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l rubric -d 'C2PA asset rubric (YAML, as the C2PA Conformance Program publishes them) to judge each file\'s credentials with; repeatable. Adds `rubrics` to each record; a `false` trait fails the file and a warning warns, on top of the policy. Conformance rubrics check the spec version in their file name (`…spec2.4.yml`)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l model -d 'Detector for --detect: a card name in the models folder or a CARD.toml. Repeatable, as for `vouch detect`: any model that flags a file fails it' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l face-model -d 'Face detector for --faces: a card name or path (task = "face")' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l format -d 'Report format [default: text; json with --resume]' -r -f -a "text\t'A table for people (coloured on a terminal)'
json\t'JSON Lines: the verify record plus `verdict` and `reasons`, one per file'
junit\t'JUnit XML: one test case per file, failures with their reasons'
sarif\t'SARIF 2.1.0, for code-scanning views'
html\t'One self-contained HTML page for people: a summary with the failures first, then a card per file (thumbnail, verdict, signer and trust list, AI-origin badges, anchors, detection score) that requests nothing'"
complete -c vouch -n "__fish_vouch_using_subcommand check" -s o -l out -d 'Write the report to FILE (atomically) instead of stdout' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l shard -d 'Check only shard I of N (0-based), chosen by a hash of each path: N machines with I = 0..N-1 cover every file exactly once' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l resume -d 'Skip files already recorded in this JSON Lines file and append new records to it, so an interrupted run picks up where it stopped (JSON Lines: --format json, or no --format; the file is the output). Records that were errors are checked again, and the summary and exit code cover every record in FILE' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l trust -d 'Root certificate (PEM) to trust, in addition to `vouch trust` anchors and the local identity\'s root. Repeatable' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l identity -d 'Identity whose root is trusted [default: $VOUCH_HOME/identity]' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l headers -d 'Bitcoin block headers for offline checks of OpenTimestamps proofs: lines of `height header-hex` (80-byte headers as on the wire)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand check" -l bitcoin-rpc -d 'Bitcoin Core JSON-RPC URL (http://user:pass@host:8332) to fetch the block headers OpenTimestamps proofs need (getblockhash, getblockheader). Repeatable, and mixable with --esplora: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l esplora -d 'Esplora REST base URL to fetch the block headers OpenTimestamps proofs need. Repeatable: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l bitcoin-network -d 'The Bitcoin chain headers must belong to (regtest: for local test calendars; verdicts then name the chain bitcoin-regtest)' -r -f -a "mainnet\t'Bitcoin mainnet: targets checked against the compiled-in checkpoints'
regtest\t'A local regtest chain (for testing calendars): the fixed regtest target; verdicts name the chain `bitcoin-regtest`'"
complete -c vouch -n "__fish_vouch_using_subcommand check" -l rpc -d 'EVM JSON-RPC URL of the chain FILE.anchor.json receipts name: the transaction must exist there, carry the root and sit in the named block, every answer checked against the hashes that commit to it. Repeatable: independent nodes must agree on the block at that height' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l confirmations -d 'Blocks (the anchoring one included) an EVM anchor needs to count as confirmed; fewer leave it pending' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l timeout -d 'Seconds to wait for each request to a node or Esplora server' -r
complete -c vouch -n "__fish_vouch_using_subcommand check" -l detect -d 'Score images and videos for synthetic content too (on whenever the policy sets max_synthetic_score); adds `detection` to each record'
complete -c vouch -n "__fish_vouch_using_subcommand check" -l faces -d 'With --detect: score faces instead of whole frames (as `vouch detect --faces`)'
complete -c vouch -n "__fish_vouch_using_subcommand check" -l json -d 'The same as --format json, as in every other command'
complete -c vouch -n "__fish_vouch_using_subcommand check" -l allow-remote -d 'Fetch manifests that a file references by URL instead of embedding (off by default: verifying then contacts no one)'
complete -c vouch -n "__fish_vouch_using_subcommand check" -l no-public-trust -d 'Trust only local anchors: the C2PA Trust List, the C2PA TSA Trust List and the interim Content Credentials list, on by default, then vouch for no one (see `vouch trust list`)'
complete -c vouch -n "__fish_vouch_using_subcommand check" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand check" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand report" -l format -d 'Report format' -r -f -a "text\t'A table for people (coloured on a terminal)'
json\t'JSON Lines: the verify record plus `verdict` and `reasons`, one per file'
junit\t'JUnit XML: one test case per file, failures with their reasons'
sarif\t'SARIF 2.1.0, for code-scanning views'
html\t'One self-contained HTML page for people: a summary with the failures first, then a card per file (thumbnail, verdict, signer and trust list, AI-origin badges, anchors, detection score) that requests nothing'"
complete -c vouch -n "__fish_vouch_using_subcommand report" -s o -l out -d 'Write the report to FILE (atomically) instead of stdout' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand report" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand report" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l to -d 'The chain to anchor to' -r -f -a "ots\t'Bitcoin, through OpenTimestamps calendars: writes FILE.ots'
evm\t'An EVM chain over JSON-RPC, one transaction per batch: writes FILE.anchor.json'"
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l calendar -d 'OpenTimestamps calendar URL. Repeatable [default: four public calendars run by different operators]' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l min-calendars -d 'How many calendars must accept the batch [default: 2, or 1 with a single calendar]' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l rpc -d 'EVM JSON-RPC URL (with --to evm) [default: the first `rpc` in config.toml]' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l key-env -d 'Environment variable holding the hex private key of the account that pays for the anchoring transaction (with --to evm; never a flag, so it stays out of shell history and process lists)' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l chain-id -d 'Refuse to anchor unless the node serves this chain id (with --to evm)' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l confirmations -d 'Blocks to wait for before writing receipts (with --to evm)' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l timeout -d 'Seconds to wait for each calendar or node request' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l force -d 'Replace receipts that already exist'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -l json -d 'Print one JSON object per file per line'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -a "upgrade" -d 'Ask the calendars of pending proofs for their Bitcoin attestations and rewrite each proof (atomically) when one is complete. Only trusted calendars are asked (the public ones, and those given with --calendar); others a proof names are reported as skipped. With headers (--headers, --esplora, --bitcoin-rpc) a reply carrying a false attestation is refused, and a proof is never rewritten into one that verifies worse'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and not __fish_seen_subcommand_from upgrade help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l calendar -d 'Also trust this calendar (exact URL). Repeatable [default: the public calendars: https://*.calendar.opentimestamps.org, https://*.calendar.eternitywall.com, https://*.calendar.catallaxy.com]' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l headers -d 'Bitcoin block headers for offline checks of OpenTimestamps proofs: lines of `height header-hex` (80-byte headers as on the wire)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l bitcoin-rpc -d 'Bitcoin Core JSON-RPC URL (http://user:pass@host:8332) to fetch the block headers OpenTimestamps proofs need (getblockhash, getblockheader). Repeatable, and mixable with --esplora: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l esplora -d 'Esplora REST base URL to fetch the block headers OpenTimestamps proofs need. Repeatable: every source is asked and they must agree' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l bitcoin-network -d 'The Bitcoin chain headers must belong to (regtest: for local test calendars; verdicts then name the chain bitcoin-regtest)' -r -f -a "mainnet\t'Bitcoin mainnet: targets checked against the compiled-in checkpoints'
regtest\t'A local regtest chain (for testing calendars): the fixed regtest target; verdicts name the chain `bitcoin-regtest`'"
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l timeout -d 'Seconds to wait for each calendar' -r
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -l json -d 'Print one JSON object per proof per line'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from upgrade" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from help" -f -a "upgrade" -d 'Ask the calendars of pending proofs for their Bitcoin attestations and rewrite each proof (atomically) when one is complete. Only trusted calendars are asked (the public ones, and those given with --calendar); others a proof names are reported as skipped. With headers (--headers, --esplora, --bitcoin-rpc) a reply carrying a false attestation is refused, and a proof is never rewritten into one that verifies worse'
complete -c vouch -n "__fish_vouch_using_subcommand anchor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l identity -d 'Identity directory [default: $VOUCH_HOME/identity]' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand watch" -s o -l out -d 'Write signed copies into OUTDIR, keeping the folder layout' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l source-type -d 'IPTC digital source type of the captures [default: digital-capture] (for a capture that already has credentials, as `vouch sign --source-type`)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l tsa -d 'RFC 3161 time-stamping authority to timestamp each signature [default: `tsa` in the identity\'s settings.toml]; a capture it cannot timestamp is reported and left unsigned' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l to -d 'Anchor signed files to this chain in batches (without it, sign only)' -r -f -a "ots\t'Bitcoin, through OpenTimestamps calendars: writes FILE.ots'
evm\t'An EVM chain over JSON-RPC, one transaction per batch: writes FILE.anchor.json'"
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l anchor-every -d 'When to anchor a batch: a file count (100) or a time since the oldest waiting file was signed (90s, 10m, 2h)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l calendar -d 'OpenTimestamps calendar URL. Repeatable [default: four public calendars run by different operators]' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l min-calendars -d 'How many calendars must accept the batch [default: 2, or 1 with a single calendar]' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l rpc -d 'EVM JSON-RPC URL (with --to evm) [default: the first `rpc` in config.toml]' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l key-env -d 'Environment variable holding the hex private key of the account that pays for the anchoring transaction (with --to evm; never a flag, so it stays out of shell history and process lists)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l chain-id -d 'Refuse to anchor unless the node serves this chain id (with --to evm)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l confirmations -d 'Blocks to wait for before writing receipts (with --to evm)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l timeout -d 'Seconds to wait for each calendar or node request' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l settle -d 'Seconds a file\'s size and time must hold still before it counts as complete' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l poll -d 'Seconds between looks at the folder (polling works on network shares too)' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l idle-exit -d 'Stop after SECS with nothing new, anchoring what waits first (for cron-driven stations and tests) [default: run until killed]' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l passphrase-env -d 'Read the key passphrase from this environment variable (never from a flag, so it stays out of shell history and process lists). Defaults to VOUCH_PASSPHRASE when that is set' -r
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l in-place -d 'Replace each capture with its signed version (atomically)'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l sidecar -d 'Write the manifest to FILE.c2pa beside each capture, which stays byte-identical'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l allow-invalid-parent -d 'Sign captures whose own Content Credentials are invalid (refused by default)'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -l json -d 'Print one JSON object per event per line'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -l trust -d 'Root certificate (PEM) to trust when reporting the state. Repeatable' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -l json -d 'Print the manifest store JSON'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -l tree -d 'Print only the tree of manifests and ingredients'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -l crjson -d 'Print the crJSON of each file (c2pa\'s serialisation with its validation results), the document the C2PA asset rubrics are evaluated on'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -l allow-remote -d 'Fetch a manifest the file references by URL (off by default)'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -f -a "add" -d 'Trust the root certificate(s) in a PEM file'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -f -a "list" -d 'List trusted roots and the public trust lists'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -f -a "remove" -d 'Stop trusting the root whose SHA-256 fingerprint starts with FINGERPRINT'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -f -a "update" -d 'Replace a public trust list with a copy you downloaded'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and not __fish_seen_subcommand_from add list remove update help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object per anchor per line'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from update" -l list -d 'Which list: c2pa (C2PA Trust List), tsa (C2PA TSA Trust List), interim (interim Content Credentials anchors) or interim-allowed (its allowed end-entity certificates)' -r
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from update" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from update" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from update" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "add" -d 'Trust the root certificate(s) in a PEM file'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "list" -d 'List trusted roots and the public trust lists'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Stop trusting the root whose SHA-256 fingerprint starts with FINGERPRINT'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "update" -d 'Replace a public trust list with a copy you downloaded'
complete -c vouch -n "__fish_vouch_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l model -d 'Frame model: a card name in the models folder ($VOUCH_MODELS, else models/ of the checkout vouch was built in, else PREFIX/share/vouch/models; `vouch doctor` shows which) or a path to a card. Repeatable: several models score the same decoded frames, each reported under `models`, and the file is flagged if any model flags it (else inconclusive if any is, else not_flagged). A model whose card names a face model scores face crops; the others whole frames' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l fps -d 'Score about F frames per second of video [default: 2]' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l every -d 'Score every Nth decoded frame (0, N, 2N…)' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l max-frames -d 'Score at most N frames per video' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l max-pixels -d 'Refuse images and video frames of more than N pixels: a file\'s header is a claim, and a few bytes can claim gigabytes of pixels' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l face-model -d 'Face detector for --faces: a card name or path (task = "face"). Without --faces it only counts faces, so a record can say when a model that looks for AI-generated images (not face swaps) was shown a face' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l threshold -d 'Decision threshold on P(synthetic) [default: the card\'s]' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l batch -d 'Images per inference call (models that quantise activations dynamically always run one at a time)' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l threads -d 'Threads for preprocessing and inference [default: all cores]' -r
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l plot -d 'Draw each file\'s score timeline to this PNG (with several files, OUT-<file name>.png beside it)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l all-frames -d 'Score every frame'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l faces -d 'Score faces instead of whole frames: find them with the face model, crop the largest (up to 3, square, 1.3× the box) and score each crop; a frame scores as its most synthetic face'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l json -d 'Print one JSON object per file per line'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -l csv -d 'Print one CSV row per scored frame (path, index, time_s, score, smoothed, faces)'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand detect" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -f -a "list" -d 'List the model cards in the models folder and whether their weights are present'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -f -a "check" -d 'Check a model against its card: the card parses, the weights are there with the card\'s SHA-256, ONNX Runtime loads them, and input and output names and shapes agree with the card'
complete -c vouch -n "__fish_vouch_using_subcommand models; and not __fish_seen_subcommand_from list check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON object per card per line'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from check" -l json -d 'Print one JSON object instead of text'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the model cards in the models folder and whether their weights are present'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a model against its card: the card parses, the weights are there with the card\'s SHA-256, ONNX Runtime loads them, and input and output names and shapes agree with the card'
complete -c vouch -n "__fish_vouch_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand doctor" -l identity -l dir -d 'Identity directory [default: $VOUCH_HOME/identity, where VOUCH_HOME defaults to the user\'s config dir + /vouch]. `--identity`, as in every other command (`--dir` is kept as an alias)' -r -F
complete -c vouch -n "__fish_vouch_using_subcommand doctor" -l json -d 'Print one JSON object instead of text'
complete -c vouch -n "__fish_vouch_using_subcommand doctor" -s q -l quiet -d 'Print nothing but errors and the summary line (on stderr); reports and files named by -o/--out or --resume are still written'
complete -c vouch -n "__fish_vouch_using_subcommand doctor" -s v -l verbose -d 'Say more on stderr: each file passed over and why, and the settings the run uses (identity, trust anchors)'
complete -c vouch -n "__fish_vouch_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "identity" -d 'Create, show or import the identity that signs media'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "sign" -d 'Sign media with a C2PA manifest (Content Credentials)'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "verify" -d 'Verify the C2PA manifests of media files: trusted, valid, invalid or absent'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "check" -d 'One verdict per file (pass, warn, fail) against a policy: credentials, signer, anchors; as text, JSON Lines, JUnit, SARIF or HTML'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "report" -d 'Merge `check` (and `detect`) JSON Lines records, such as the shards of one archive, into one report: text, JSON Lines, JUnit, SARIF or HTML'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "anchor" -d 'Anchor files to a public chain: one Merkle root per batch, a receipt per file'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "watch" -d 'A capture station: sign every file that lands in a folder and anchor them in batches, surviving crashes without repeating or losing a file'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "inspect" -d 'Show a file\'s manifest store: signer, actions, ingredients, assertions'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "trust" -d 'Manage the root certificates whose signers `verify` calls trusted'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "detect" -d 'Score images and videos for synthetic content with an ONNX detector'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "models" -d 'List detector model cards, or check that a model matches its card'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "doctor" -d 'Say what this install has: ONNX Runtime, FFmpeg, the detector models (their weights checked against their cards\' SHA-256), the public trust lists and the signing identity, and for each missing piece the command that fixes it'
complete -c vouch -n "__fish_vouch_using_subcommand help; and not __fish_seen_subcommand_from identity sign verify check report anchor watch inspect trust detect models doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from identity" -f -a "new" -d 'Create an Ed25519 root CA and a signing certificate issued by it'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from identity" -f -a "show" -d 'Show the signing identity: subject, issuer, validity, fingerprints'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from identity" -f -a "import" -d 'Import an existing certificate chain and key (Ed25519, ES256, PS256…), refusing it with the reasons a C2PA validator would give'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from anchor" -f -a "upgrade" -d 'Ask the calendars of pending proofs for their Bitcoin attestations and rewrite each proof (atomically) when one is complete. Only trusted calendars are asked (the public ones, and those given with --calendar); others a proof names are reported as skipped. With headers (--headers, --esplora, --bitcoin-rpc) a reply carrying a false attestation is refused, and a proof is never rewritten into one that verifies worse'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "add" -d 'Trust the root certificate(s) in a PEM file'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "list" -d 'List trusted roots and the public trust lists'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "remove" -d 'Stop trusting the root whose SHA-256 fingerprint starts with FINGERPRINT'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "update" -d 'Replace a public trust list with a copy you downloaded'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from models" -f -a "list" -d 'List the model cards in the models folder and whether their weights are present'
complete -c vouch -n "__fish_vouch_using_subcommand help; and __fish_seen_subcommand_from models" -f -a "check" -d 'Check a model against its card: the card parses, the weights are there with the card\'s SHA-256, ONNX Runtime loads them, and input and output names and shapes agree with the card'
