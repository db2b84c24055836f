#!/usr/bin/env python3
"""Writes dedup_pairs.csv: labelled pairs of synthetic requests (no real people) for
measuring the duplicate matcher. Run from anywhere: `python3 tests/data/make_dedup_pairs.py`.
`--seed N --out FILE` writes a held-out set of the same making (the committed set is seed
20261126), to check that a change to the matcher is not fitted to the committed pairs:
`DEDUP_PAIRS=FILE cargo test --lib dedup::evaluation -- --nocapture`.

Positives are two reports of one person by different sources: other transliterations,
Arabic script, typos, swapped name order, titles, a dropped father's name, missing or
year-only dates of birth, day and month swapped, a new phone number, a move.
Negatives are the hard cases of a surge: brothers with the same father's name and surname
sharing the household phone, twins, namesakes (common names, sometimes the same birth
year), cousins with similar given names, a spouse citing the principal's case number and
phone, a father and son, and unrelated people in the same place.

Decision recorded here and in the README: requests match when they are about the same
*principal applicant*. A family member (spouse, brother, son) is a different applicant
even when the request shares the family's phone or case number: label "different".
"""

import argparse
import csv
import os
import random

SEED = 20261126
rng = random.Random(SEED)

# (Latin spellings, Arabic script, sex)
GIVEN = [
    (["Mohammad", "Muhammad", "Mohammed", "Mohamed", "Mohd", "Muhammed"], "محمد", "m"),
    (["Ahmad", "Ahmed", "Ahmet"], "احمد", "m"),
    (["Mahmood", "Mahmud", "Mahmoud"], "محمود", "m"),
    (["Abdul Rahman", "Abdurrahman", "Abdulrahman", "Abd al-Rahman"], "عبدالرحمن", "m"),
    (["Abdullah", "Abdulla", "Abdallah"], "عبدالله", "m"),
    (["Abdul Karim", "Abdulkarim", "Abdul Kareem"], "عبدالکریم", "m"),
    (["Hussain", "Hussein", "Hossain", "Husain", "Hossein"], "حسین", "m"),
    (["Ali", "Aly"], "علی", "m"),
    (["Wali", "Walli"], "ولی", "m"),
    (["Yousuf", "Yusuf", "Yosuf", "Yousef"], "یوسف", "m"),
    (["Habibullah", "Habib Ullah", "Habibulla"], "حبیب الله", "m"),
    (["Noorullah", "Nurullah", "Noor Ullah"], "نورالله", "m"),
    (["Zabihullah", "Zabiullah", "Zabihulla"], "ذبیح الله", "m"),
    (["Rahmatullah", "Rahmatulla", "Rahmat Ullah"], "رحمت الله", "m"),
    (["Farid", "Fareed"], "فرید", "m"),
    (["Jawad", "Javad"], "جواد", "m"),
    (["Naveed", "Navid", "Nawid"], "نوید", "m"),
    (["Qasim", "Kasim", "Qassim"], "قاسم", "m"),
    (["Khalid", "Khaled"], "خالد", "m"),
    (["Tariq", "Tareq", "Tarek"], "طارق", "m"),
    (["Bilal", "Belal"], "بلال", "m"),
    (["Karim", "Kareem"], "کریم", "m"),
    (["Rahim", "Raheem"], "رحیم", "m"),
    (["Jamshid", "Jamsheed"], "جمشید", "m"),
    (["Fawad", "Fawaad"], "فواد", "m"),
    (["Shafiq", "Shafeeq"], "شفیق", "m"),
    (["Ismail", "Esmail", "Ismael"], "اسماعیل", "m"),
    (["Omar", "Umar"], "عمر", "m"),
    (["Nasir", "Naser", "Nasser"], "ناصر", "m"),
    (["Zahir", "Zaheer"], "ظاهر", "m"),
    (["Sohail", "Suhail"], "سهیل", "m"),
    (["Hamid", "Hameed"], "حمید", "m"),
    (["Samiullah", "Sami Ullah"], "سمیع الله", "m"),
    (["Mustafa", "Mostafa"], "مصطفی", "m"),
    (["Hekmat", "Hikmat"], "حکمت", "m"),
    (["Najib", "Najeeb"], "نجیب", "m"),
    (["Wahid", "Waheed", "Vahid"], "وحید", "m"),
    (["Sharif", "Shareef"], "شریف", "m"),
    (["Haroon", "Harun"], "هارون", "m"),
    (["Idris", "Edris"], "ادریس", "m"),
    (["Gul Ahmad", "Gulahmad", "Gul Ahmed"], "گل احمد", "m"),
    (["Sher Ali", "Sherali", "Shir Ali"], "شیرعلی", "m"),
    (["Fatima", "Fatema", "Fatemeh"], "فاطمه", "f"),
    (["Maryam", "Mariam"], "مریم", "f"),
    (["Zahra", "Zohra"], "زهرا", "f"),
    (["Farzana", "Farzaneh"], "فرزانه", "f"),
    (["Shabnam", "Shabnum"], "شبنم", "f"),
    (["Mursal", "Mursal"], "مرسل", "f"),
    (["Nilofar", "Nilufar", "Niloofar"], "نیلوفر", "f"),
    (["Malalai", "Malalay"], "ملالی", "f"),
    (["Sakina", "Sakineh"], "سکینه", "f"),
    (["Parwana", "Parvana"], "پروانه", "f"),
]
MALE = [g for g in GIVEN if g[2] == "m"]
FEMALE = [g for g in GIVEN if g[2] == "f"]
# Given names that are easily confused but are different names.
CONFUSABLE = [("Ahmad", "Mahmood"), ("Hamid", "Mohammad"), ("Karim", "Rahim"),
              ("Ali", "Wali"), ("Farid", "Fawad"), ("Jawad", "Fawad"), ("Nasir", "Zahir"),
              ("Habibullah", "Noorullah"), ("Abdullah", "Abdul Rahman"), ("Omar", "Ali")]

SURNAMES = [
    (["Karimi", "Kareemi", "Karimy"], "کریمی"),
    (["Ahmadi", "Ahmady"], "احمدی"),
    (["Rahimi", "Raheemi"], "رحیمی"),
    (["Ahmadzai", "Ahmadzay"], "احمدزی"),
    (["Popal"], "پوپل"),
    (["Stanikzai", "Stanekzai"], "ستانکزی"),
    (["Hashimi", "Hashemi"], "هاشمی"),
    (["Sultani"], "سلطانی"),
    (["Noori", "Nuri"], "نوری"),
    (["Haidari", "Haydari", "Heidari"], "حیدری"),
    (["Safi"], "صافی"),
    (["Mohammadi", "Muhammadi"], "محمدی"),
    (["Zadran"], "ځدراڼ"),
    (["Yousafzai", "Yusufzai"], "یوسفزی"),
    (["Wardak"], "وردک"),
    (["Amiri", "Ameeri"], "امیری"),
    (["Sadat"], "سادات"),
    (["Rezai", "Rezaee"], "رضایی"),
    (["Jalali"], "جلالی"),
    (["Niazi"], "نیازی"),
    (["Samadi"], "صمدی"),
    (["Azimi", "Azeemi"], "عظیمی"),
    (["Nazari"], "نظری"),
    (["Habibi", "Habeebi"], "حبیبی"),
    (["Mansoor", "Mansour", "Mansur"], "منصور"),
    (["Taheri", "Tahiri"], "طاهری"),
    (["Kakar"], "کاکړ"),
    (["Durrani", "Durani"], "درانی"),
    (["Shinwari"], "شینواری"),
    (["Faizi", "Faizy"], "فیضی"),
]
# The common names of a surge: namesakes come from here.
COMMON_GIVEN = [0, 1, 6, 4, 7]
COMMON_SURNAMES = [0, 1, 11, 2, 8]

TITLES_LATIN = ["Haji", "Eng.", "Dr.", "Sayed", "Mr."]
TITLES_ARABIC = ["حاجی", "انجنیر", "داکتر", "سید"]
LOCATIONS = ["afghanistan", "pakistan", "border", "elsewhere"]
DOMAINS = ["example.org", "example.net", "example.com"]


def given_by_latin(name):
    return next(i for i, g in enumerate(GIVEN) if g[0][0] == name)


def new_phone():
    if rng.random() < 0.7:
        return "7" + "".join(rng.choice("0123456789") for _ in range(8))  # Afghan mobile
    return "3" + "".join(rng.choice("0123456789") for _ in range(9))  # Pakistani mobile


def format_phone(national):
    country = "93" if len(national) == 9 else "92"
    return rng.choice([
        f"+{country} {national[:3]} {national[3:6]} {national[6:]}",
        f"00{country}{national}",
        f"0{national}",
        f"+{country}{national}",
        f"0{national[:3]}-{national[3:6]}-{national[6:]}",
    ])


def new_case():
    prefix = rng.choice(["ISB", "KBL", "NVC", "COM"])
    return f"{prefix}{rng.randint(2014, 2021)}{rng.randint(100000, 999999)}"


def format_case(case):
    return rng.choice([case, case.lower(), f"{case[:3]}-{case[3:7]}-{case[7:]}", f"{case[:3]} {case[3:]}"])


def new_person(given=None, surname=None, sex=None, born=None):
    pool = MALE if sex == "m" else FEMALE if sex == "f" else GIVEN
    g = given if given is not None else GIVEN.index(rng.choice(pool))
    s = surname if surname is not None else rng.randrange(len(SURNAMES))
    father = GIVEN.index(rng.choice(MALE)) if rng.random() < 0.4 else None
    if born is None:
        born = (rng.randint(1955, 2006), rng.randint(1, 12), rng.randint(1, 28))
    first = GIVEN[g][0][0].split()[0].lower()
    return {
        "given": g, "father": father, "surname": s, "born": born,
        "phone": new_phone(),
        "email": f"{first}.{SURNAMES[s][0][0].lower()}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
        if rng.random() < 0.5 else None,
        "case": new_case() if rng.random() < 0.45 else None,
        "household": rng.randint(1, 12),
        "location": rng.choice(LOCATIONS),
    }


def typo(word):
    if len(word) < 5 or " " in word:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "sub"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiourn") + word[i + 1:]


def render(p, arabic_rate=0.25):
    """One source's report of person p."""
    arabic = rng.random() < arabic_rate
    parts = []
    for idx, table in ((p["given"], GIVEN), (p["father"], GIVEN), (p["surname"], SURNAMES)):
        if idx is None or (table is GIVEN and idx == p["father"] and rng.random() < 0.3):
            continue
        entry = table[idx]
        parts.append(entry[1] if arabic else rng.choice(entry[0]))
    if not arabic and rng.random() < 0.15:
        j = rng.randrange(len(parts))
        parts[j] = typo(parts[j])
    if rng.random() < 0.2:
        parts = parts[-1:] + parts[:-1]
    if rng.random() < 0.15:
        parts.insert(0, rng.choice(TITLES_ARABIC if arabic else TITLES_LATIN))
    name = " ".join(parts)

    y, m, d = p["born"]
    r = rng.random()
    if r < 0.05:
        birth = f"{y}-{d:02d}-{m:02d}" if d <= 12 else f"{y}-{m:02d}-{d:02d}"
    elif r < 0.10:
        birth = str(y + rng.choice([-1, 1]))
    elif r < 0.55:
        birth = f"{y}-{m:02d}-{d:02d}"
    elif r < 0.75:
        birth = str(y)
    else:
        birth = ""

    r = rng.random()
    phone = format_phone(p["phone"]) if r < 0.6 else "" if r < 0.85 else format_phone(new_phone())
    email = p["email"] if p["email"] and rng.random() < 0.4 else ""
    if email and rng.random() < 0.3:
        email = email.upper()
    case = format_case(p["case"]) if p["case"] and rng.random() < 0.5 else ""
    r = rng.random()
    household = p["household"] if r < 0.7 else max(1, p["household"] + rng.choice([-1, 1])) if r < 0.9 else ""
    location = p["location"] if rng.random() < 0.8 else rng.choice(LOCATIONS)
    return [name, birth, phone, email, case, household, location]


def sibling(p, twin=False):
    """A brother or sister: same father and surname, often the household phone."""
    sex = rng.choice(["m", "m", "f"])
    pool = MALE if sex == "m" else FEMALE
    g = GIVEN.index(rng.choice([x for x in pool if GIVEN.index(x) != p["given"]]))
    y, m, d = p["born"]
    born = p["born"] if twin else (y + rng.choice([-9, -6, -4, -3, -2, 2, 3, 5, 8]), rng.randint(1, 12), rng.randint(1, 28))
    q = new_person(given=g, surname=p["surname"], born=born)
    q["father"] = p["father"] if p["father"] is not None else GIVEN.index(rng.choice(MALE))
    p["father"] = q["father"]
    if twin or rng.random() < 0.6:
        q["phone"] = p["phone"]
    q["location"] = p["location"] if rng.random() < 0.8 else q["location"]
    q["household"] = p["household"] if rng.random() < 0.5 else q["household"]
    return q


def negative(kind):
    if kind == "brother":
        p = new_person(sex="m")
        return p, sibling(p)
    if kind == "twin":
        p = new_person(sex="m")
        return p, sibling(p, twin=True)
    if kind == "namesake":
        g, s = GIVEN[rng.choice(COMMON_GIVEN)], rng.choice(COMMON_SURNAMES)
        p = new_person(given=GIVEN.index(g), surname=s)
        y = p["born"][0]
        same_year = rng.random() < 0.3
        q = new_person(given=p["given"], surname=s,
                       born=(y if same_year else y + rng.choice([-15, -7, -3, 4, 9, 20]), rng.randint(1, 12), rng.randint(1, 28)))
        return p, q
    if kind == "cousin":
        a, b = rng.choice(CONFUSABLE)
        p = new_person(given=given_by_latin(a))
        q = new_person(given=given_by_latin(b), surname=p["surname"],
                       born=(p["born"][0] + rng.choice([-1, 0, 0, 1]), rng.randint(1, 12), rng.randint(1, 28)))
        q["location"] = p["location"]
        return p, q
    if kind == "spouse":
        p = new_person(sex="m")
        p["case"] = p["case"] or new_case()
        q = new_person(sex="f", surname=p["surname"],
                       born=(p["born"][0] + rng.choice([-2, 3, 5, 7]), rng.randint(1, 12), rng.randint(1, 28)))
        q["case"], q["phone"], q["household"], q["location"] = p["case"], p["phone"], p["household"], p["location"]
        return p, q
    if kind == "father_son":
        p = new_person(sex="m")
        p["born"] = (rng.randint(1950, 1970), p["born"][1], p["born"][2])
        q = new_person(sex="m", surname=p["surname"],
                       born=(p["born"][0] + rng.randint(20, 32), rng.randint(1, 12), rng.randint(1, 28)))
        q["father"] = p["given"]
        if rng.random() < 0.5:
            q["phone"] = p["phone"]
        q["location"] = p["location"]
        return p, q
    p = new_person()
    q = new_person()
    q["location"] = p["location"]
    return p, q


NEGATIVE_MIX = [("brother", 80), ("twin", 15), ("namesake", 60), ("cousin", 35),
                ("spouse", 30), ("father_son", 30), ("unrelated", 50)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", help="where to write (default: dedup_pairs.csv beside this script)")
    args = parser.parse_args()
    rng.seed(args.seed)
    rows = []
    for _ in range(300):
        p = new_person()
        a = render(p)
        b = render(p)
        scenario = "same_" + ("arabic" if any("\u0600" <= c <= "\u06ff" for c in a[0] + b[0]) else "latin")
        rows.append(("same", scenario, a, b))
    for kind, count in NEGATIVE_MIX:
        for _ in range(count):
            p, q = negative(kind)
            rows.append(("different", kind, render(p), render(q)))
    rng.shuffle(rows)
    fields = ["name", "birth", "phone", "email", "case_number", "household_size", "location"]
    path = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "dedup_pairs.csv")
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "scenario"] + [f"a_{x}" for x in fields] + [f"b_{x}" for x in fields])
        for i, (label, scenario, a, b) in enumerate(rows, 1):
            w.writerow([i, label, scenario] + a + b)
    print(f"wrote {len(rows)} pairs to {path}")


if __name__ == "__main__":
    main()
