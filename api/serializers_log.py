"""The public log's answers (no key): what publiclog.selectors read, as the API writes it. Hashes
are base64, as C2SP's checkpoints write them."""

from rest_framework import serializers

HASH = "SHA-256, base64."


class LogSerializer(serializers.Serializer):
    origin = serializers.CharField(help_text="The log's origin: the first line of its checkpoints and the name of "
                                             "its key.")
    verifier_key = serializers.CharField(help_text="The C2SP signed-note verifier key that signs the checkpoints: "
                                                   "name+key id+base64 of 0x01 and the Ed25519 public key.")
    size = serializers.IntegerField(min_value=0, help_text="How many leaves the log has (some may not be in a "
                                                           "checkpoint yet).")


class CheckpointSerializer(serializers.Serializer):
    origin = serializers.CharField()
    size = serializers.IntegerField(min_value=0, help_text="The tree size the checkpoint signs.")
    root_hash = serializers.CharField(help_text=f"The tree's root hash (RFC 9162), {HASH}")
    signed_at = serializers.DateTimeField()
    note = serializers.CharField(help_text="The checkpoint as a C2SP signed note, exactly as signed: check its "
                                           "signature with the verifier key. Lines after the log's signature are "
                                           "witnesses' cosignatures (C2SP tlog-cosignature), each verified against "
                                           "its witness's key when received.")


class InclusionProofSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(min_value=0)
    tree_size = serializers.IntegerField(min_value=1)
    entry = serializers.CharField(help_text="The leaf: the SHA-256 digest of the retirement's record in canonical "
                                            "form, as the log took it, base64.")
    leaf_hash = serializers.CharField(help_text=f"SHA-256(0x00 || entry), {HASH}")
    proof = serializers.ListField(child=serializers.CharField(), help_text=f"The audit path, from the leaf up; {HASH}")
    root_hash = serializers.CharField(help_text=f"The root of the tree of tree_size leaves, {HASH}")


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=0)
    second = serializers.IntegerField(min_value=0)
    proof = serializers.ListField(child=serializers.CharField(), help_text=f"RFC 9162's consistency proof; {HASH}")
    first_root_hash = serializers.CharField()
    second_root_hash = serializers.CharField()


class LeafSerializer(serializers.Serializer):
    index = serializers.IntegerField(min_value=0)
    entry = serializers.CharField(help_text="The retirement record's SHA-256 digest, base64.")
    leaf_hash = serializers.CharField(help_text=f"SHA-256(0x00 || entry), {HASH}")
    reference = serializers.CharField(help_text="The retirement's public reference (its page: /verify/<reference>/).")


class LeavesSerializer(serializers.Serializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0, help_text="The first index not answered (at most 1,000 a request).")
    leaves = LeafSerializer(many=True)
