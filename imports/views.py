from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .messages import (
    FROM_HEADER,
    MOST_BYTES,
    SIGNATURE_HEADER,
    MessageRefused,
    answer_read,
    export_details,
    message_verified,
)
from .reconciling import reconcile_answer
from .services import ImportRefused, export_answer_receive, import_from_message


def _problem(status: int, title: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
                        status=status, content_type="application/problem+json")


@csrf_exempt  # another registry's server, not a browser: its signature is the proof (imports.messages)
@require_POST
def inbox(request: HttpRequest) -> HttpResponse:
    """Another registry running this project sends its messages here: verified, then acted on, or refused
    with a problem that says why, changing nothing."""
    if len(request.body) > MOST_BYTES:
        return _problem(413, "Message too large", f"A message is at most {MOST_BYTES:,} bytes.")
    try:
        peer, body = message_verified(raw=request.body, sender=request.headers.get(FROM_HEADER, ""),
                                      signature=request.headers.get(SIGNATURE_HEADER, ""))
        message_id = body["message_id"]
        if body["type"] == "reconcile":
            raw, headers = reconcile_answer(peer=peer, body=body)
            return HttpResponse(raw, content_type="application/json", headers=headers)
        if body["type"] == "answer":
            reference, in_reply_to, accepted, quantity = answer_read(body.get("answer"))
            transfer = export_answer_receive(peer=peer, message_id=message_id, reference=reference,
                                             in_reply_to=in_reply_to, accepted=accepted, quantity=quantity)
            return JsonResponse({"message_id": str(message_id), "transfer": transfer.pk, "status": transfer.status})
        reference, details = export_details(peer, body.get("export"))
        records = import_from_message(peer=peer, message_id=message_id, reference=reference, details=details)
    except MessageRefused as refusal:
        return _problem(refusal.status, refusal.title, refusal.detail)
    except ImportRefused as refusal:
        status = 409 if "message" in refusal.problems or "overlap" in str(refusal) else 422
        title = "Answer refused" if body["type"] == "answer" else "Import refused"
        return _problem(status, title, str(refusal), problems=refusal.problems)
    return JsonResponse({"message_id": str(message_id), "transfer": records[0].transfer_id,
                         "imports": [record.pk for record in records]}, status=201)
