"""The staff inbox (SPEC L7 Messages): read and answer patients' messages."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from molar.audit.permissions import MANAGE_ACCESS, staff_view
from molar.refusal import Refused, refused_on_form

from .forms import InboxFilterForm, ReplyForm
from .models import Thread
from .selectors import thread_messages, threads_for_inbox
from .services import message_reply_from_staff, thread_mark_read, thread_set_status

PAGE_SIZE = 50


@staff_view(MANAGE_ACCESS)
def inbox(request):
    form = InboxFilterForm(request.GET or None)
    status = (form.cleaned_data["status"] if form.is_valid() else "") or "open"
    page = Paginator(threads_for_inbox(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/inbox.html",
        {"form": form, "page": page, "status": status, "query": urlencode({"status": status})},
    )


# The URL argument is `thread_id`, not `pk`: staff_view records a denied
# `pk` as a patient id.
@staff_view(MANAGE_ACCESS)
def thread(request, thread_id: int):
    thread = get_object_or_404(Thread.objects.select_related("patient"), pk=thread_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message_reply_from_staff(thread=thread, user=request.user, body=form.cleaned_data["body"])
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, "Answer sent. The patient gets an email that a message is waiting.")
            return redirect("messaging:thread", thread_id=thread.pk)
    rows = thread_messages(thread)  # read before marking, so the page can show what is new
    thread_mark_read(thread=thread, user=request.user)
    return render(request, "messaging/thread.html", {"thread": thread, "rows": rows, "form": form})


@require_POST
@staff_view(MANAGE_ACCESS)
def thread_status(request, thread_id: int):
    thread = get_object_or_404(Thread, pk=thread_id)
    try:
        thread = thread_set_status(thread=thread, user=request.user, status=request.POST.get("status", ""))
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Conversation reopened." if thread.is_open else "Conversation closed.")
    return redirect("messaging:thread", thread_id=thread.pk)
