#!/usr/bin/env python3
"""Writes the mail corpus of the mail-in tests: messages shaped like the traffic the
task-force mailbox gets. Run from this folder; the .eml files are committed, this script
says how they were made (some need bytes a text editor would not keep).

Placeholders the tests fill in before taking a mail in:
  {OUR_ID}     the Message-ID (without <>) of a mail the app sent
  {REFERENCE}  a case's reference
  {REQUESTER}  that case's requester's address
"""
import base64

CRLF = "\r\n"


def write(name, text, encoding="utf-8"):
    data = text.replace("\n", CRLF).encode(encoding) if isinstance(text, str) else text
    with open(name, "wb") as f:
        f.write(data)


def b64_lines(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


# 1. Persian in windows-1256, with an RFC 2047 subject (base64 "B" encoding of UTF-8).
subject = "درخواست کمک برای ویزای خاص مهاجرت"
# windows-1256 has the Arabic yeh (U+064A), not the Persian one, and no Persian digits:
# mail from older clients writes them so.
body_fa = "سلام، من محمد کریمی هستم. شماره تماس من 0700123456 است. لطفاً کمک کنید.\n".replace("ی", "ي")
head = (
    "From: =?UTF-8?B?" + base64.b64encode("محمد کریمی".encode()).decode() + "?= <m.karimi@example.af>\n"
    "To: taskforce@taskforce.example\n"
    "Subject: =?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?=\n"
    "Message-ID: <persian-1256@example.af>\n"
    "Date: Thu, 03 Dec 2026 09:15:00 +0430\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=windows-1256\n"
    "Content-Transfer-Encoding: 8bit\n\n"
)
write("persian_windows_1256.eml", head.replace("\n", CRLF).encode("ascii") + body_fa.replace("\n", CRLF).encode("cp1256"))

# 2. HTML only, with a script and an event handler in it.
write("html_only_script.eml", """From: Sara Ahmadi <sara.ahmadi@example.org>
To: taskforce@taskforce.example
Subject: My family is at the border
Message-ID: <html-only-1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><head><style>p {{ color: red }}</style><script>alert('stolen cookie')</script></head>
<body><p onclick=3D"steal()">We are five people waiting at Torkham.</p>
<p>Please call <b>+92 300 1234567</b>.</p><img src=3D"https://tracker.example/x.gif"></body></html>
""".replace("{{", "{").replace("}}", "}"))

# 3. Nested multipart: alternative text/html inside mixed, with a PDF attachment.
pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
write("nested_attachment.eml", """From: Resettlement Partners <intake@partner.example.org>
To: taskforce@taskforce.example
Subject: Referral with documents
Message-ID: <nested-1@partner.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain; charset=utf-8

We refer Abdul Rahman Noori, COM case 2021-445566. His Tazkira is attached.

--inner
Content-Type: text/html; charset=utf-8

<p>We refer Abdul Rahman Noori, COM case 2021-445566. His Tazkira is attached.</p>

--inner--

--outer
Content-Type: application/octet-stream; name="tazkira.pdf"
Content-Disposition: attachment; filename="tazkira.pdf"
Content-Transfer-Encoding: base64

""" + b64_lines(pdf) + """

--outer--
""")

# 4. A reply to one of our mails, by In-Reply-To.
write("reply_in_reply_to.eml", """From: {REQUESTER}
To: taskforce@taskforce.example
Subject: Re: Your request
Message-ID: <reply-irt-1@example.org>
In-Reply-To: <{OUR_ID}>
References: <{OUR_ID}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Here is the visa number you asked for: 2022-987654.

On Thu, 3 Dec 2026, Task force wrote:
> Please send us your visa number.
""")

# 5. A reply with only the reference in its subject, from the case's requester.
write("subject_reference_requester.eml", """From: {REQUESTER}
To: taskforce@taskforce.example
Subject: About my case {REFERENCE}
Message-ID: <subject-ref-own-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I have moved to Islamabad. My new phone is +92 300 7654321.
""")

# 6. The same subject reference from somebody else.
write("subject_reference_stranger.eml", """From: Someone Else <stranger@elsewhere.example>
To: taskforce@taskforce.example
Subject: Re: {REFERENCE} status?
Message-ID: <subject-ref-stranger-1@elsewhere.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

What is the status of this case? Where is the applicant now?
""")

# 7. An out-of-office answer to our mail.
write("out_of_office.eml", """From: {REQUESTER}
To: no-reply@taskforce.example
Subject: Automatic reply: Your request
Message-ID: <ooo-1@example.org>
In-Reply-To: <{OUR_ID}>
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday and have limited access to email.
""")

# 8. A delivery-status report about our mail.
write("bounce_dsn.eml", """From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: no-reply@taskforce.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org. Your message could not be delivered.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Arrival-Date: Thu,  3 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; gone.user@example.org
Original-Recipient: rfc822;gone.user@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone.user@example.org>: Recipient address rejected: User unknown

--dsn
Content-Type: text/rfc822-headers

From: Task force <no-reply@taskforce.example>
To: gone.user@example.org
Subject: Your request
Message-ID: <{OUR_ID}>

--dsn--
""")

# 9. A mailing-list mail.
write("mailing_list.eml", """From: Humanitarian News <news@lists.example.org>
To: taskforce@taskforce.example
Subject: [hum-news] Weekly digest
Message-ID: <list-1@lists.example.org>
List-Id: Humanitarian News <hum-news.lists.example.org>
List-Unsubscribe: <mailto:leave-hum-news@lists.example.org>
Precedence: list
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

This week's digest of humanitarian news.
""")

# 10. A mail with an attachment over the tests' size limit (1 MiB): 800 KiB in base64.
big = bytes(range(256)) * (800 * 1024 // 256)
write("over_size_limit.eml", """From: Big Sender <big@example.org>
To: taskforce@taskforce.example
Subject: Scans of all our documents
Message-ID: <too-big-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

All scans attached.

--b
Content-Type: application/octet-stream; name="scans.bin"
Content-Disposition: attachment; filename="scans.bin"
Content-Transfer-Encoding: base64

""" + b64_lines(big) + """

--b--
""")

# 11. A broken MIME boundary: the header names one the body never uses.
write("broken_boundary.eml", """From: Broken Client <broken@example.org>
To: taskforce@taskforce.example
Subject: Please help
Message-ID: <broken-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-used"

--other-boundary
Content-Type: text/plain

My message got cut by my phone.
--other-boundary--
""")

# 12. ISO-8859-6 Arabic text, quoted-printable, Pashto speaker's mail without encoded words.
arabic = "أحتاج إلى مساعدة عاجلة".encode("iso-8859-6")
qp = "".join("=%02X" % b if b > 126 or b == 61 else chr(b) for b in arabic)
write("arabic_iso_8859_6.eml", """From: Wali Khan <wali.khan@example.pk>
To: taskforce@taskforce.example
Subject: Help
Message-ID: <arabic-8859-6@example.pk>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-6
Content-Transfer-Encoding: quoted-printable

""" + qp + "\n")
