from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .messages import FROM_HEADER, MOST_BYTES, SIGNATURE_HEADER, MessageRefused, export_details, message_verified
from .services import ImportRefused, import_from_message


def _problem(status: int, title: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
                        status=status, content_type="application/problem+json")


@csrf_exempt  # another registry's server, not a browser: its signature is the proof (imports.messages)
@require_POST
def inbox(request: HttpRequest) -> JsonResponse:
    """Another registry running this project sends its messages here: verified, then acted on, or refused
    with a problem that says why, changing nothing."""
    if len(request.body) > MOST_BYTES:
        return _problem(413, "Message too large", f"A message is at most {MOST_BYTES:,} bytes.")
    try:
        peer, body = message_verified(raw=request.body, sender=request.headers.get(FROM_HEADER, ""),
                                      signature=request.headers.get(SIGNATURE_HEADER, ""))
    except MessageRefused as refusal:
        return _problem(refusal.status, refusal.title, refusal.detail)
    try:
        record = import_from_message(message_id=body["message_id"], details=export_details(peer, body.get("export")))
    except ImportRefused as refusal:
        status = 409 if "message" in refusal.problems or "overlap" in str(refusal) else 422
        return _problem(status, "Import refused", str(refusal), problems=refusal.problems)
    return JsonResponse({"message_id": str(body["message_id"]), "import": record.pk, "transfer": record.transfer_id,
                         "serial_number": f"{record.certificate.serial_base}-1 to {record.quantity}"}, status=201)
