-- A date of birth is kept once, in Gregorian (applicant_date_of_birth); these say how much
-- of it is known ('day' or 'year': a year alone is kept as the first day of that year in
-- its calendar) and the calendar it was written in ('gregorian' or 'hijri_shamsi'), so it
-- is shown as written and matched as a year. NULL with a date: a whole Gregorian date, as
-- every request stored before.
ALTER TABLE request_personal_data ADD COLUMN applicant_date_of_birth_precision TEXT;
ALTER TABLE request_personal_data ADD COLUMN applicant_date_of_birth_calendar TEXT;
