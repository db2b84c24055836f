# English catalog of the public pages and the requester's mail.
# Every key here must exist in fa-AF and ps too (a unit test checks it).
# Program terms follow locales/GLOSSARY.md.

## Frame

language-name = English
site-name = Afghanistan-Pakistan task force
site-title-suffix = Task force
language-switch = Language
footer-privacy = Your information is shared only with the task force and its referral partners. You can never be asked to pay for this help.
meta-description = Ask the Afghanistan-Pakistan task force for help to resettle from Afghanistan or Pakistan, and check on a request you sent.

## The request form

form-title = Ask for help
form-title-errors = Please check your answers
form-heading = Ask the task force for help
form-lead = Use this form if you, your family or someone you sponsor needs help to resettle from Afghanistan or Pakistan. Answer what you can. You will get a reference number at the end.
error-summary-title = { $count ->
    [one] Please fix 1 answer and send the form again
   *[other] Please fix { $count } answers and send the form again
}
error-prefix = Error:
section-you = About you
q-submitter-kind = Who is filling in this form?
q-submitter-name = Your name
h-submitter-name = Leave empty if you are the person who needs help.
q-submitter-organization = Your organization or office
h-submitter-organization = Only if you write for an organization or a government office.
q-submitter-email = Your email address
h-submitter-email = Only if it is different from the applicant's.
q-submitter-phone = Your phone number
h-submitter-phone = Only if it is different from the applicant's.
section-applicant = The person who needs help
q-applicant-full-name = Full name
h-applicant-full-name = As written in their passport or Tazkira, in any script.
q-applicant-date-of-birth = Date of birth
h-applicant-date-of-birth = Year-month-day, for example 1990-05-31, or only the year if that is all you know. Leave empty if unknown.
q-applicant-date-of-birth-calendar = Calendar of the date of birth
h-applicant-date-of-birth-calendar = Gregorian unless you choose Solar Hijri, the calendar of the Tazkira.
calendar-gregorian = Gregorian (passport, for example 1990-05-31)
calendar-hijri_shamsi = Solar Hijri (Tazkira, for example 1369-10-11)
q-applicant-phone = Phone number
h-applicant-phone = With the country code if you can, for example +93 70 123 4567.
q-applicant-whatsapp = WhatsApp number
h-applicant-whatsapp = Only if it is different from the phone number.
q-applicant-email = Email address
h-contact = Give at least one way to reach you: a phone number, a WhatsApp number or an email address.
q-applicant-location = Where is the person now?
q-applicant-household-size = How many people are in the family travelling together?
h-applicant-household-size = Count the person who needs help too.
section-visa = Visa and referral
q-siv-status = Have they applied for a Special Immigrant Visa (SIV)?
h-siv-status = The SIV is for Afghans who worked for or on behalf of the U.S. government.
q-siv-case-number = SIV case number (Chief of Mission or NVC), if you have one
h-siv-case-number = Leave empty if you do not have one.
q-referral-program = Has an organization referred them to the U.S. refugee program?
h-referral-program = A P-1 referral comes from UNHCR, a U.S. embassy or an NGO. A P-2 referral comes from a U.S. employer, U.S.-funded program, U.S. media or NGO.
q-referral-referred-by = Who made the referral?
h-referral-referred-by = The name of the organization, if you know it.
q-claimed = Do they believe they qualify for any of these? Tick all that apply.
q-us-tie = Are they a U.S. citizen, a U.S. permanent resident (green card), or the spouse, parent or child of one?
section-safety = Safety
q-urgent = Is anyone in danger right now?
urgent-danger = Yes, someone faces immediate danger
urgent-medical = Yes, someone needs urgent medical care
q-description = Tell us what help is needed
h-description = In your own words, in any language. Do not include passwords or bank details.
section-permission = Permission
consent = I agree that the task force and its referral partners (UNHCR and partner organizations) may store and use this information to handle this request.
form-submit = Send the request

## Short names of the questions, as the error summary lists them

field-submitter_kind = Who is filling in this form
field-submitter_name = Your name
field-submitter_organization = Your organization or office
field-submitter_email = Your email address
field-submitter_phone = Your phone number
field-applicant_full_name = Full name
field-applicant_date_of_birth = Date of birth
field-applicant_date_of_birth_calendar = Calendar
field-applicant_phone = Phone number
field-applicant_whatsapp = WhatsApp number
field-applicant_email = Email address
field-applicant_location = Where the person is now
field-applicant_household_size = Family size
field-siv_status = Special Immigrant Visa
field-siv_case_number = SIV case number
field-referral_program = Referral
field-referral_referred_by = Who made the referral
field-us_tie = U.S. citizen or resident
field-description = What help is needed
field-consent = Permission

## Answer options

submitter_kind-self = I am the person who needs help
submitter_kind-sponsor = A sponsor or relative
submitter_kind-organization = An organization
submitter_kind-agency_office = A government agency office
location-afghanistan = Inside Afghanistan
location-border = At or near the Afghanistan-Pakistan border
location-pakistan = In Pakistan
location-elsewhere = Somewhere else
siv_status-none = No Special Immigrant Visa application
siv_status-in_process = Applied, still in process
siv_status-approved = Approved
referral_program-none = No referral
referral_program-p1 = P-1 referral (from UNHCR, a U.S. embassy or an NGO)
referral_program-p2 = P-2 referral (from a U.S. employer, media or NGO)
program-siv = Special Immigrant Visa (worked for or on behalf of the U.S. government)
program-p1 = P-1 refugee referral
program-p2 = P-2 refugee referral (worked for a U.S.-funded program, U.S. media or NGO)
program-parole = Humanitarian parole
us_tie-none = No
us_tie-citizen = Yes, a U.S. citizen
us_tie-lpr = Yes, a U.S. lawful permanent resident (green card holder)
us_tie-immediate_family = Yes, the spouse, parent or child under 21 of one

## Categories, in plain words

category-urgent_protection = Urgent protection or medical need
category-amcit_lpr = U.S. citizen, permanent resident or their family
category-siv_approved = Special Immigrant Visa approved
category-siv_pending = Special Immigrant Visa in process
category-refugee_referral = Refugee program referral (P-1 / P-2)
category-border_arrival = Arriving at the Afghanistan-Pakistan border
category-no_referral = Eligibility claimed, no referral on file
category-other = Other request

## Field errors (one per problem code)

error-invisible_characters = This answer contains invisible control characters. Please type it again.
error-name_empty = Please enter a name.
error-name_too_long = This is too long. Please use at most 200 characters.
error-no_letters = A name must contain letters.
error-email_spaces = Enter a single email address without spaces, like name@example.org.
error-email_too_long = This is too long for an email address.
error-email_invalid = Enter an email address like name@example.org.
error-phone_characters = A phone number may contain only digits, spaces, dashes and a + at the start.
error-phone_digits = A phone number must have 6 to 20 digits. Add the country code if you can.
error-case_number_characters = A case number may contain only Latin letters, digits and dashes.
error-case_number_length = A case number has 4 to 30 letters and digits, as printed on your case letter.
error-date_format = Enter a date like 1990-05-31 (year-month-day), or only the year, like 1990.
error-date_looks_solar_hijri = { $year } looks like a Solar Hijri year: choose Solar Hijri.
error-date_looks_gregorian = { $year } looks like a Gregorian year: choose Gregorian.
error-date_in_future = A date of birth cannot be in the future.
error-date_too_early = A date of birth must be after 1900.
error-text_too_long = This is too long. Please shorten it.
error-description_too_long = This is too long. Please use at most 5000 characters.
error-submitter_kind_missing = Please say who is sending this request: the person themself, a sponsor or relative, an organization or a government office.
error-organization_missing = Please give the name of your organization or office.
error-sponsor_name_missing = Please give your own name as the sponsor or relative.
error-full_name_missing = Please enter the full name of the person who needs help.
error-location_missing = Please say where the person is now.
error-household_range = Enter a number of people from 1 to 50. Count the person who needs help too.
error-household_not_number = Enter a number of people, like 4.
error-choice_invalid = Please choose one of the options.
error-contact_missing = Please give at least one way to reach you: a phone or WhatsApp number or an email address.
error-consent_missing = We can only take the request if you agree that the task force and its referral partners may store and use this information.

## The confirmation page

confirm-title = Request received
confirm-heading = Your request has been received
confirm-reference-intro = Your reference number is
confirm-reference-keep = Write it down or take a screenshot. Quote it whenever you contact the task force; anyone who contacts you about this request will quote it too.
confirm-category = What kind of request this is
confirm-next = What happens next
confirm-guidance = Guidance
confirm-birth = Date of birth as recorded: { $date }
confirm-birth-shamsi = { $date } (Solar Hijri)
confirm-birth-gregorian = { $date } (Gregorian)
confirm-received = Received { $time } (UTC). Do not send the same request again: a second request does not move it faster.
confirm-another = Send a request for someone else
next-steps-default = The task force will review your request and contact you.

## Message pages

message-back = Go to the request form
unreadable-title = This form could not be read
unreadable-body = Please go back to the form and send it again from your browser.
not-found-title = Page not found
not-found-body = This page does not exist or the link has expired. Your request, if you sent one, is safe.
failure-title = Something went wrong on our side
failure-body = Nothing you did caused this. Please try again in a few minutes.

## Standard guidance per category. English pages and mail show the guidance the
## task-force lead keeps in the database; these texts are shown in Dari and Pashto.

guidance-urgent_protection = If anyone is in immediate danger, move to a safer place if you can and contact local emergency services. In Pakistan, UNHCR's protection helpline can arrange urgent help for refugees and asylum seekers. For urgent medical care, go to the nearest hospital; UNHCR partners can help with costs.
next-steps-urgent_protection = The urgent protection desk reviews these requests first, every day of the week. Keep your phone on: someone from the task force or a partner may contact you from an unknown number and will quote your reference number.
guidance-amcit_lpr = U.S. citizens, lawful permanent residents (green card holders) and their immediate family are helped by consular services, not by the refugee program. Keep your U.S. passport, green card, or proof of your family relationship (marriage or birth certificates) ready.
next-steps-amcit_lpr = The consular desk will contact you to confirm your status and explain the travel options. Do not travel to the embassy unless you are asked to come.
guidance-siv_approved = Your Special Immigrant Visa has been approved. The next steps are travel documents and, if needed, a medical examination. Keep your approval letter, passport and case number safe and do not share them on social media.
next-steps-siv_approved = The SIV desk will check your case and contact you about travel. Reply with your case number only when a task-force officer asks for it.
guidance-siv_pending = A Special Immigrant Visa case goes through these steps: Chief of Mission (COM) application, COM approval, I-360 petition with USCIS, the National Visa Center (NVC), a visa interview, then the visa. Processing takes months, and the task force cannot speed up a single step. If you have a COM or NVC case number, keep it with you; you can also ask about your case through the NVC's public inquiry form.
next-steps-siv_pending = The SIV desk will check where your case stands and tell you if anything is missing. You do not need to send this request again: repeat requests do not move a case faster.
guidance-refugee_referral = A P-1 referral comes from UNHCR, a U.S. embassy or a designated NGO; a P-2 referral (the Afghan group designation of 2 August 2021) comes from the U.S. employer, U.S.-based media organization or NGO you worked for. Referred cases are processed by the Resettlement Support Center, which contacts you directly; processing starts only once you are outside Afghanistan.
next-steps-refugee_referral = The referrals desk will confirm your referral with the organization that made it and pass your case on to UNHCR or the partner NGO handling it. Keep the name of the person or organization that referred you.
guidance-border_arrival = If you have crossed or are about to cross into Pakistan, UNHCR and its partners run reception and registration points near the main crossings. Registering with UNHCR gives you access to protection and assistance. Carry any identity documents you have, and documents that show work for a U.S. government, media or NGO employer.
next-steps-border_arrival = The referrals desk will pass your request to UNHCR or a partner NGO near the border, who may contact you directly.
guidance-no_referral = The task force could not find a referral or application on file for you. To be considered for the U.S. refugee program you need a referral: P-1 comes from UNHCR, a U.S. embassy or a designated NGO; P-2 comes from the U.S. employer, U.S.-funded program, U.S.-based media or NGO you worked for, who must submit it for you. For a Special Immigrant Visa you must first apply for Chief of Mission approval with proof of your work for or on behalf of the U.S. government. Humanitarian parole is requested on form I-131. Registering with UNHCR is the first step for most people outside Afghanistan.
next-steps-no_referral = The task force will review your request and tell you which route fits you. Ask your former employer or sponsor to submit a referral if they have not yet.
guidance-other = Your request does not fit one of the usual categories, so a task-force officer will read it in full. If you are in Pakistan, UNHCR can tell you about protection and assistance while you wait.
next-steps-other = The task force will review your request and contact you if it needs more information or can point you to the right office.

## Mail to the requester

mail-ack-subject = Your request { $reference } has been received
mail-ack-intro = Your request to the Afghanistan-Pakistan task force has been received.
mail-ack-quote = Quote it whenever you contact the task force; anyone who contacts you about this request will quote it too.
mail-no-repeat = Do not send the same request again: a second request does not move it faster.
mail-never-pay = You can never be asked to pay for this help.
mail-footer = Afghanistan-Pakistan task force. This is an automatic message; replies to it are not read.
mail-reference-label = Reference number:
mail-category-label = What kind of request this is:
mail-referred-subject = Your request { $reference } has been referred to a partner
mail-referred-heading = Your request has been referred to a partner
mail-referred-body = The task force has passed your request to UNHCR or a partner organization, who will contact you directly and quote your reference number.
mail-resolved-subject = Your request { $reference } has been resolved
mail-resolved-heading = Your request has been resolved
mail-resolved-body = The task force has finished working on your request.

thanks-title = Thank you
thanks-body = Your request was received. The task force will review it and contact you.
honeypot-label = Leave this field empty (it is here to catch automated spam)
rate-limited-title = Too many requests
rate-limited-body = Too many requests came from your network in a short time. Please wait a minute and try again; nothing you sent was lost.

## Status check
status-code-intro = Your status-check code is
status-code-keep = Keep it with the reference number: with both you can check your request on the "Check your request" page ({ $page }). This code is shown only here and in the acknowledgment email.
status-title = Check your request
status-intro = Enter the reference number and the status-check code you received when you sent your request.
status-reference = Reference number
status-code = Status-check code
status-submit = Check
status-not-found = We could not find a request with this reference number and code. Check both and try again.
status-current = Status of your request
status-received = Received: waiting to be reviewed.
status-reviewing = Being reviewed by the task force.
status-referred = Referred to UNHCR or a partner organization.
status-resolved = Resolved.
status-changed = Last change: { $date } (UTC).

## Correspondence: messages from the task force and the requester's answers
mail-message-subject = Message about your request { $reference }
mail-message-heading = A message from the task force
mail-message-reply = You can answer by replying to this email.
mail-message-status-page = You can also read and answer it on the "Check your request" page ({ $page }) with your reference number and status-check code.
mail-message-footer = Afghanistan-Pakistan task force. Replies to this message are read by the task force.
status-messages = Messages from the task force
status-message-sent = Sent { $date } (UTC)
status-answer-heading = Answer the task force
status-answer-label = Your answer
status-answer-hint = Plain text, at most 4,000 characters.
status-answer-submit = Send answer
status-answer-sent = Your answer has been received. The task force will read it.
status-answer-empty = Write your answer before sending it.
status-answer-too-long = Your answer is { $count } characters long; at most 4,000 are allowed. Shorten it and send it again.
