"""The portal's Messages tab (SPEC L7) for the patient whose data is shown:
a representative who switched to a child reads and writes the child's
threads, on the child's behalf (SPEC L8)."""

from django.contrib import messages
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

from molar.messaging.forms import NewThreadForm, ReplyForm
from molar.messaging.models import Thread
from molar.messaging.selectors import thread_messages, threads_for_patient
from molar.messaging.services import message_reply_from_patient, message_thread_start, thread_mark_read
from molar.refusal import Refused, refused_on_form

from .access import PortalRequest, portal_tab, subject_object
from .pages import portal_render

SENT = gettext_lazy("Message sent. The practice will answer here; you get an email when they do.")


@portal_tab("messages")
def message_list(request: PortalRequest) -> HttpResponseBase:
    form = NewThreadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            thread = message_thread_start(
                patient=request.portal_subject,
                actor_account=request.portal_account,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, SENT)
            return redirect("portal:message_thread", pk=thread.pk)
    return portal_render(
        request,
        "portal/messages.html",
        {"threads": list(threads_for_patient(request.portal_subject)), "form": form, "tab": "messages"},
    )


@portal_tab("messages")
def message_thread(request: PortalRequest, pk: int) -> HttpResponseBase:
    thread = subject_object(request, Thread.objects.select_related("patient"), pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            message_reply_from_patient(
                thread=thread, actor_account=request.portal_account, body=form.cleaned_data["body"]
            )
        except Refused as exc:
            refused_on_form(form, exc)
        else:
            messages.success(request, SENT)
            return redirect("portal:message_thread", pk=thread.pk)
    rows = thread_messages(thread)  # read before marking, so the page can show what is new
    thread_mark_read(thread=thread, account=request.portal_account)
    return portal_render(
        request,
        "portal/message_thread.html",
        {"thread": thread, "rows": rows, "form": form, "tab": "messages"},
    )
