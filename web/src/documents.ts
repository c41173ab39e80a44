// Every operation the dashboard sends. Fragments are unmasked (@_unmask): a component reads
// the fields it asked for directly.
import { graphql, type ResultOf } from './graphql.ts';

export const AttemptSummaryFields = graphql(`
  fragment AttemptSummaryFields on DeliveryAttempt @_unmask {
    id
    attemptNumber
    attemptedAt
    durationMs
    success
    responseStatus
    error
    nextAttemptAt
  }
`);

export const SubscriptionFields = graphql(`
  fragment SubscriptionFields on WebhookSubscription @_unmask {
    id
    name
    targetUrl
    eventTypes
    status
    createdAt
    updatedAt
  }
`);

export const EventRowFields = graphql(`
  fragment EventRowFields on Event @_unmask {
    id
    eventType
    status
    attemptCount
    nextAttemptAt
    createdAt
    updatedAt
    deliveredAt
  }
`);

/** What a live attempt carries: enough for the feeds, a subscription's "last delivery", and the event's badge. */
export const LiveAttemptFields = graphql(
  `
    fragment LiveAttemptFields on DeliveryAttempt @_unmask {
      ...AttemptSummaryFields
      event {
        id
        eventType
        status
        attemptCount
        nextAttemptAt
      }
      subscription {
        id
        name
      }
    }
  `,
  [AttemptSummaryFields],
);

export const StatsFields = graphql(`
  fragment StatsFields on DeliveryStats @_unmask {
    attempts
    succeeded
    failed
    successRate
    p50DurationMs
    p95DurationMs
  }
`);

export const SubscriptionsQuery = graphql(
  `
    query Subscriptions($first: Int!, $after: String) {
      webhookSubscriptions(first: $first, after: $after) {
        edges {
          node {
            ...SubscriptionFields
            lastAttempt {
              ...AttemptSummaryFields
              event {
                id
              }
            }
            stats(hours: 24) {
              ...StatsFields
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  `,
  [SubscriptionFields, AttemptSummaryFields, StatsFields],
);

export const OverviewQuery = graphql(
  `
    query Overview {
      deliveryStats(hours: 24) {
        ...StatsFields
      }
    }
  `,
  [StatsFields],
);

export const SubscriptionQuery = graphql(
  `
    query Subscription($id: ID!) {
      webhookSubscription(id: $id) {
        ...SubscriptionFields
        secret
      }
    }
  `,
  [SubscriptionFields],
);

export const SubscriptionMetricsQuery = graphql(
  `
    query SubscriptionMetrics($id: ID!) {
      webhookSubscription(id: $id) {
        id
        stats(hours: 24) {
          ...StatsFields
        }
        timeline(minutes: 60) {
          minute
          succeeded
          failed
          p50DurationMs
          p95DurationMs
        }
        eventCounts {
          status
          count
        }
      }
    }
  `,
  [StatsFields],
);

export const SubscriptionEventsQuery = graphql(
  `
    query SubscriptionEvents($id: ID!, $first: Int!, $after: String, $status: EventStatus) {
      webhookSubscription(id: $id) {
        id
        events(first: $first, after: $after, status: $status) {
          edges {
            node {
              ...EventRowFields
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `,
  [EventRowFields],
);

export const SubscriptionAttemptsQuery = graphql(
  `
    query SubscriptionAttempts($id: ID!, $first: Int!) {
      webhookSubscription(id: $id) {
        id
        attempts(first: $first) {
          edges {
            node {
              ...LiveAttemptFields
            }
          }
        }
      }
    }
  `,
  [LiveAttemptFields],
);

export const RecentAttemptsQuery = graphql(
  `
    query RecentAttempts($first: Int!) {
      deliveryAttempts(first: $first) {
        edges {
          node {
            ...LiveAttemptFields
          }
        }
      }
    }
  `,
  [LiveAttemptFields],
);

export const EventQuery = graphql(
  `
    query Event($id: ID!) {
      event(id: $id) {
        ...EventRowFields
        idempotencyKey
        payload
        subscription {
          id
          name
          targetUrl
        }
        attempts {
          ...AttemptSummaryFields
          responseBody
          requestHeaders {
            name
            value
          }
        }
      }
    }
  `,
  [EventRowFields, AttemptSummaryFields],
);

export const EventsUpdatedSubscription = graphql(
  `
    subscription EventsUpdated($subscriptionId: ID) {
      eventsUpdated(subscriptionId: $subscriptionId) {
        ...EventRowFields
        subscription {
          id
        }
      }
    }
  `,
  [EventRowFields],
);

export const EventUpdatedSubscription = graphql(
  `
    subscription EventUpdated($id: ID!) {
      eventUpdated(id: $id) {
        ...EventRowFields
      }
    }
  `,
  [EventRowFields],
);

export const AttemptRecordedSubscription = graphql(
  `
    subscription AttemptRecorded($subscriptionId: ID, $eventId: ID) {
      deliveryAttemptRecorded(subscriptionId: $subscriptionId, eventId: $eventId) {
        ...LiveAttemptFields
      }
    }
  `,
  [LiveAttemptFields],
);

export const CreateSubscriptionMutation = graphql(
  `
    mutation CreateSubscription($input: CreateWebhookSubscriptionInput!) {
      createWebhookSubscription(input: $input) {
        __typename
        ... on WebhookSubscription {
          ...SubscriptionFields
          secret
        }
        ... on ValidationError {
          message
          fieldErrors {
            path
            message
          }
        }
      }
    }
  `,
  [SubscriptionFields],
);

export const UpdateSubscriptionMutation = graphql(
  `
    mutation UpdateSubscription($id: ID!, $input: UpdateWebhookSubscriptionInput!) {
      updateWebhookSubscription(id: $id, input: $input) {
        __typename
        ... on WebhookSubscription {
          ...SubscriptionFields
        }
        ... on ValidationError {
          message
          fieldErrors {
            path
            message
          }
        }
        ... on NotFoundError {
          message
        }
      }
    }
  `,
  [SubscriptionFields],
);

export const DeleteSubscriptionMutation = graphql(`
  mutation DeleteSubscription($id: ID!) {
    deleteWebhookSubscription(id: $id) {
      __typename
      ... on DeletedWebhookSubscription {
        id
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

export const IngestEventMutation = graphql(
  `
    mutation IngestEvent($input: IngestEventInput!) {
      ingestEvent(input: $input) {
        __typename
        ... on Event {
          ...EventRowFields
          subscription {
            id
          }
        }
        ... on ValidationError {
          message
          fieldErrors {
            path
            message
          }
        }
        ... on NotFoundError {
          message
        }
      }
    }
  `,
  [EventRowFields],
);

export const RedeliverEventMutation = graphql(
  `
    mutation RedeliverEvent($id: ID!) {
      redeliverEvent(id: $id) {
        __typename
        ... on Event {
          ...EventRowFields
        }
        ... on ValidationError {
          message
          fieldErrors {
            path
            message
          }
        }
        ... on NotFoundError {
          message
        }
      }
    }
  `,
  [EventRowFields],
);

export type SubscriptionRowData = NonNullable<ResultOf<typeof SubscriptionsQuery>['webhookSubscriptions']['edges'][number]['node']>;
export type EventRowData = ResultOf<typeof EventRowFields>;
export type LiveAttemptData = ResultOf<typeof LiveAttemptFields>;
export type StatsData = ResultOf<typeof StatsFields>;
export type EventDetailData = NonNullable<ResultOf<typeof EventQuery>['event']>;
