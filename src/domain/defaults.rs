//! What a fresh installation starts with: the task-force queues, the routing rules between
//! them and the standard guidance per category. Seeded once into the database, where the
//! task-force lead edits them; nothing reads these after the first start.

use super::routing::{QueueSlug, RoutingRule};
use super::vocab::Category;

/// The queue that takes every request no rule claims.
pub const DEFAULT_QUEUE: &str = "triage";

pub struct QueueSeed {
    pub slug: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub notify_emails: &'static str,
}

pub fn queues() -> Vec<QueueSeed> {
    vec![
        QueueSeed {
            slug: DEFAULT_QUEUE,
            name: "Task force — triage",
            description: "Every request no routing rule claims: claims without a referral, and anything unusual.",
            notify_emails: "triage@taskforce.example",
        },
        QueueSeed {
            slug: "urgent-protection",
            name: "Urgent protection desk",
            description: "Immediate danger or urgent medical need. Looked at first, around the clock.",
            notify_emails: "urgent@taskforce.example",
        },
        QueueSeed {
            slug: "siv",
            name: "SIV desk",
            description: "Special Immigrant Visa applicants, pending or approved.",
            notify_emails: "siv@taskforce.example",
        },
        QueueSeed {
            slug: "refugee-referrals",
            name: "Refugee referrals desk (UNHCR / NGO)",
            description: "P-1 and P-2 referrals and border arrivals, referred on to UNHCR or a partner NGO.",
            notify_emails: "referrals@taskforce.example",
        },
        QueueSeed {
            slug: "consular",
            name: "Consular desk (AMCIT / LPR)",
            description: "U.S. citizens, lawful permanent residents and their immediate family.",
            notify_emails: "consular@taskforce.example",
        },
    ]
}

pub fn routing_rules() -> Vec<RoutingRule> {
    let rule = |n: i32, name: &str, category: Category, queue: &str| RoutingRule {
        id: format!("default-{n}"),
        position: n * 10,
        name: name.to_string(),
        category: Some(category),
        priority: None,
        source: None,
        location: None,
        sender_domain: None,
        queue: QueueSlug::parse(queue).expect("default queue slugs are valid"),
        enabled: true,
    };
    vec![
        rule(
            1,
            "Urgent protection to the urgent desk",
            Category::UrgentProtection,
            "urgent-protection",
        ),
        rule(
            2,
            "U.S. citizens and residents to consular",
            Category::AmcitLpr,
            "consular",
        ),
        rule(
            3,
            "Approved SIV to the SIV desk",
            Category::SivApproved,
            "siv",
        ),
        rule(
            4,
            "Pending SIV to the SIV desk",
            Category::SivPending,
            "siv",
        ),
        rule(
            5,
            "P-1 / P-2 referrals to the referrals desk",
            Category::RefugeeReferral,
            "refugee-referrals",
        ),
        rule(
            6,
            "Border arrivals to the referrals desk",
            Category::BorderArrival,
            "refugee-referrals",
        ),
    ]
}

pub struct GuidanceSeed {
    pub category: Category,
    pub body: &'static str,
    pub next_steps: &'static str,
}

pub fn guidance() -> Vec<GuidanceSeed> {
    use Category::*;
    vec![
        GuidanceSeed {
            category: UrgentProtection,
            body: "If anyone is in immediate danger, move to a safer place if you can and contact local emergency services. In Pakistan, UNHCR's protection helpline can arrange urgent help for refugees and asylum seekers. For urgent medical care, go to the nearest hospital; UNHCR partners can help with costs.",
            next_steps: "The urgent protection desk reviews these requests first, every day of the week. Keep your phone on: someone from the task force or a partner may contact you from an unknown number and will quote your reference number.",
        },
        GuidanceSeed {
            category: AmcitLpr,
            body: "U.S. citizens, lawful permanent residents (green card holders) and their immediate family are helped by consular services, not by the refugee program. Keep your U.S. passport, green card, or proof of your family relationship (marriage or birth certificates) ready.",
            next_steps: "The consular desk will contact you to confirm your status and explain the travel options. Do not travel to the embassy unless you are asked to come.",
        },
        GuidanceSeed {
            category: SivApproved,
            body: "Your Special Immigrant Visa has been approved. The next steps are travel documents and, if needed, a medical examination. Keep your approval letter, passport and case number safe and do not share them on social media.",
            next_steps: "The SIV desk will check your case and contact you about travel. Reply with your case number only when a task-force officer asks for it.",
        },
        GuidanceSeed {
            category: SivPending,
            body: "A Special Immigrant Visa case goes through these steps: Chief of Mission (COM) application, COM approval, I-360 petition with USCIS, the National Visa Center (NVC), a visa interview, then the visa. Processing takes months, and the task force cannot speed up a single step. If you have a COM or NVC case number, keep it with you; you can also ask about your case through the NVC's public inquiry form.",
            next_steps: "The SIV desk will check where your case stands and tell you if anything is missing. You do not need to send this request again: repeat requests do not move a case faster.",
        },
        GuidanceSeed {
            category: RefugeeReferral,
            body: "A P-1 referral comes from UNHCR, a U.S. embassy or a designated NGO; a P-2 referral (the Afghan group designation of 2 August 2021) comes from the U.S. employer, U.S.-based media organization or NGO you worked for. Referred cases are processed by the Resettlement Support Center, which contacts you directly; processing starts only once you are outside Afghanistan.",
            next_steps: "The referrals desk will confirm your referral with the organization that made it and pass your case on to UNHCR or the partner NGO handling it. Keep the name of the person or organization that referred you.",
        },
        GuidanceSeed {
            category: BorderArrival,
            body: "If you have crossed or are about to cross into Pakistan, UNHCR and its partners run reception and registration points near the main crossings. Registering with UNHCR gives you access to protection and assistance. Carry any identity documents you have, and documents that show work for a U.S. government, media or NGO employer.",
            next_steps: "The referrals desk will pass your request to UNHCR or a partner NGO near the border, who may contact you directly.",
        },
        GuidanceSeed {
            category: NoReferral,
            body: "The task force could not find a referral or application on file for you. To be considered for the U.S. refugee program you need a referral: P-1 comes from UNHCR, a U.S. embassy or a designated NGO; P-2 comes from the U.S. employer, U.S.-funded program, U.S.-based media or NGO you worked for, who must submit it for you. For a Special Immigrant Visa you must first apply for Chief of Mission approval with proof of your work for or on behalf of the U.S. government. Humanitarian parole is requested on form I-131. Registering with UNHCR is the first step for most people outside Afghanistan.",
            next_steps: "The task force will review your request and tell you which route fits you. Ask your former employer or sponsor to submit a referral if they have not yet.",
        },
        GuidanceSeed {
            category: Other,
            body: "Your request does not fit one of the usual categories, so a task-force officer will read it in full. If you are in Pakistan, UNHCR can tell you about protection and assistance while you wait.",
            next_steps: "The task force will review your request and contact you if it needs more information or can point you to the right office.",
        },
    ]
}
