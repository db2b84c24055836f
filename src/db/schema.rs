//! Diesel's view of the tables; kept by hand in step with both migration folders.

diesel::table! {
    queues (slug) {
        slug -> Text,
        name -> Text,
        description -> Text,
        notify_emails -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    routing_rules (id) {
        id -> Text,
        position -> Integer,
        name -> Text,
        category -> Nullable<Text>,
        priority -> Nullable<Text>,
        source -> Nullable<Text>,
        location -> Nullable<Text>,
        queue_slug -> Text,
        enabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    guidance (category) {
        category -> Text,
        body -> Text,
        next_steps -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    case_requests (id) {
        id -> Text,
        reference -> Text,
        receipt_token -> Text,
        source -> Text,
        submitter_kind -> Text,
        applicant_location -> Text,
        household_size -> Nullable<Integer>,
        siv_status -> Text,
        referral_program -> Text,
        claimed_programs -> Text,
        us_tie -> Text,
        urgent_danger -> Bool,
        urgent_medical -> Bool,
        category -> Text,
        category_reason -> Text,
        priority -> Text,
        priority_reason -> Text,
        queue_slug -> Text,
        routing_rule_id -> Nullable<Text>,
        routing_rule_name -> Nullable<Text>,
        status -> Text,
        consent_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    request_personal_data (request_id) {
        request_id -> Text,
        submitter_name -> Nullable<Text>,
        submitter_email -> Nullable<Text>,
        submitter_phone -> Nullable<Text>,
        submitter_organization -> Nullable<Text>,
        applicant_full_name -> Text,
        applicant_date_of_birth -> Nullable<Date>,
        applicant_phone -> Nullable<Text>,
        applicant_whatsapp -> Nullable<Text>,
        applicant_email -> Nullable<Text>,
        siv_case_number -> Nullable<Text>,
        referred_by -> Nullable<Text>,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        request_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        request_id -> Nullable<Text>,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        urgent -> Bool,
        dedup_key -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(case_requests -> queues (queue_slug));
diesel::joinable!(routing_rules -> queues (queue_slug));
diesel::joinable!(request_personal_data -> case_requests (request_id));
diesel::joinable!(audit_events -> case_requests (request_id));

diesel::allow_tables_to_appear_in_same_query!(
    queues,
    routing_rules,
    guidance,
    case_requests,
    request_personal_data,
    audit_events,
    outbox,
);
