#include "sim/graphql/schema.hpp"

namespace railwatch::sim::graphql {

// Copied from Railway's public schema (third_party/railway/schema.json, printed as SDL): only the
// root fields the simulator serves and the types they reach; object types may list a subset of
// their fields, but every field and argument listed here is spelled and typed exactly as Railway
// has it (checked by sim.RailwaySubsetSchema.* against schema.json). Root fields list *all* their
// arguments so that every valid call of them is accepted.
std::string_view RailwaySubsetSdl() {
    static constexpr std::string_view kSdl = R"SDL(
scalar DateTime
scalar DeploymentMeta
scalar DeploymentDiagnosis
scalar JSON

type Query {
  deployment(id: String!): Deployment!
  deployments(after: String, before: String, first: Int, input: DeploymentListInput!, last: Int): QueryDeploymentsConnection!
  deploymentLogs(deploymentId: String!, endDate: DateTime, filter: String, limit: Int, startDate: DateTime): [Log!]!
  buildLogs(deploymentId: String!, endDate: DateTime, filter: String, limit: Int, startDate: DateTime): [Log!]!
  deploymentEvents(after: String, before: String, first: Int, id: String!, last: Int): QueryDeploymentEventsConnection!
  serviceInstance(environmentId: String!, serviceId: String!): ServiceInstance!
  service(id: String!): Service!
  environment(id: String!, projectId: String): Environment!
  project(id: String!): Project!
  me: User!
  projectToken: ProjectToken!
  apiToken: ApiTokenContext!
  workspace(workspaceId: String!): Workspace!
  platformStatus: PlatformStatus!
}

type Mutation {
  deploymentRedeploy(id: String!, usePreviousImageTag: Boolean): Deployment!
  deploymentRestart(id: String!): Boolean!
  deploymentCancel(id: String!): Boolean!
  deploymentRemove(id: String!): Boolean!
  deploymentApprove(id: String!): Boolean!
}

type Deployment {
  canRedeploy: Boolean!
  canRollback: Boolean!
  createdAt: DateTime!
  creator: DeploymentCreator
  deploymentStopped: Boolean!
  diagnosis: DeploymentDiagnosis
  environment: Environment!
  environmentId: String!
  id: ID!
  instances: [DeploymentDeploymentInstance!]!
  meta: DeploymentMeta
  projectId: String!
  service: Service!
  serviceId: String
  snapshotId: String
  sockets: [DeploymentSocket!]!
  staticUrl: String
  status: DeploymentStatus!
  statusUpdatedAt: DateTime
  suggestAddServiceDomain: Boolean!
  updatedAt: DateTime!
  url: String
}

enum DeploymentStatus {
  BUILDING
  CRASHED
  DEPLOYING
  FAILED
  INITIALIZING
  NEEDS_APPROVAL
  QUEUED
  REMOVED
  REMOVING
  SKIPPED
  SLEEPING
  SUCCESS
  WAITING
}

input DeploymentStatusInput {
  in: [DeploymentStatus!]
  notIn: [DeploymentStatus!]
}

input DeploymentListInput {
  environmentId: String
  includeDeleted: Boolean
  projectId: String
  serviceId: String
  status: DeploymentStatusInput
}

type DeploymentDeploymentInstance {
  id: String!
  status: DeploymentInstanceStatus!
}

enum DeploymentInstanceStatus {
  CRASHED
  CREATED
  EXITED
  INITIALIZING
  REMOVED
  REMOVING
  RESTARTING
  RUNNING
  SKIPPED
  STOPPED
}

type DeploymentCreator {
  avatar: String
  email: String!
  id: String!
  name: String
}

type DeploymentSocket {
  ipv6: Boolean!
  port: Int!
  processName: String!
  updatedAt: Int!
}

type QueryDeploymentsConnection {
  edges: [QueryDeploymentsConnectionEdge!]!
  pageInfo: PageInfo!
}

type QueryDeploymentsConnectionEdge {
  cursor: String!
  node: Deployment!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type Log {
  attributes: [LogAttribute!]!
  message: String!
  severity: String
  tags: LogTags
  timestamp: String!
}

type LogAttribute {
  key: String!
  value: String!
}

type LogTags {
  deploymentId: String
  deploymentInstanceId: String
  environmentId: String
  pluginId: String @deprecated(reason: "Plugins have been removed")
  projectId: String
  serviceId: String
  snapshotId: String
}

type DeploymentEvent {
  completedAt: DateTime
  createdAt: DateTime!
  id: ID!
  payload: DeploymentEventPayload
  step: DeploymentEventStep!
}

enum DeploymentEventStep {
  BUILD_IMAGE
  CONFIGURE_NETWORK
  CREATE_CONTAINER
  DRAIN_INSTANCES
  HEALTHCHECK
  MIGRATE_VOLUMES
  PRE_DEPLOY_COMMAND
  PUBLISH_IMAGE
  SNAPSHOT_CODE
  WAIT_FOR_DEPENDENCIES
}

type DeploymentEventPayload {
  attempt: Int
  detail: String
  durationMs: Int
  error: String
  maxAttempts: Int
  reason: String
  skipped: Boolean
}

type QueryDeploymentEventsConnection {
  edges: [QueryDeploymentEventsConnectionEdge!]!
  pageInfo: PageInfo!
}

type QueryDeploymentEventsConnectionEdge {
  cursor: String!
  node: DeploymentEvent!
}

type ServiceInstance {
  activeDeployments: [Deployment!]!
  buildCommand: String
  createdAt: DateTime!
  cronSchedule: String
  deletedAt: DateTime
  domains: AllDomains!
  drainingSeconds: Int
  environmentId: String!
  healthcheckPath: String
  healthcheckTimeout: Int
  id: ID!
  isUpdatable: Boolean!
  latestDeployment: Deployment
  nextCronRunAt: DateTime
  numReplicas: Int
  overlapSeconds: Int
  region: String
  restartPolicyMaxRetries: Int!
  restartPolicyType: RestartPolicyType!
  rootDirectory: String
  service: Service!
  serviceId: String!
  serviceName: String!
  sleepApplication: Boolean
  source: ServiceSource
  startCommand: String
  updatedAt: DateTime!
  upstreamUrl: String
  watchPatterns: [String!]!
}

enum RestartPolicyType {
  ALWAYS
  NEVER
  ON_FAILURE
}

type ServiceSource {
  image: String
  repo: String
}

type AllDomains {
  customDomains: [CustomDomain!]!
  serviceDomains: [ServiceDomain!]!
}

type ServiceDomain {
  createdAt: DateTime
  deletedAt: DateTime
  domain: String!
  edgeId: String
  environmentId: String!
  id: ID!
  projectId: String
  serviceId: String!
  suffix: String
  syncStatus: ServiceDomainSyncStatus!
  targetPort: Int
  updatedAt: DateTime
}

enum ServiceDomainSyncStatus {
  ACTIVE
  CREATING
  DELETED
  DELETING
  UNSPECIFIED
  UPDATING
}

type CustomDomain {
  createdAt: DateTime
  deletedAt: DateTime
  domain: String!
  edgeId: String
  environmentId: String!
  id: ID!
  isRailwayDomain: Boolean!
  projectId: String
  serviceId: String!
  targetPort: Int
  updatedAt: DateTime
}

type Service {
  createdAt: DateTime!
  deletedAt: DateTime
  icon: String
  id: ID!
  isRestricted: Boolean!
  name: String!
  project: Project!
  projectId: String!
  updatedAt: DateTime!
}

type Environment {
  createdAt: DateTime!
  deletedAt: DateTime
  id: ID!
  isEphemeral: Boolean!
  name: String!
  projectId: String!
  serviceInstances(after: String, before: String, first: Int, last: Int): EnvironmentServiceInstancesConnection!
  updatedAt: DateTime!
}
type EnvironmentServiceInstancesConnection {
  edges: [EnvironmentServiceInstancesConnectionEdge!]!
  pageInfo: PageInfo!
}
type EnvironmentServiceInstancesConnectionEdge {
  cursor: String!
  node: ServiceInstance!
}

type Project {
  createdAt: DateTime!
  deletedAt: DateTime
  description: String
  id: ID!
  name: String!
  updatedAt: DateTime!
  workspaceId: String
}

type User {
  apiTokenRateLimit: ApiTokenRateLimit
  avatar: String
  createdAt: DateTime!
  email: String!
  has2FA: Boolean!
  id: ID!
  isAdmin: Boolean!
  isVerified: Boolean!
  name: String
  username: String
  workspaces: [Workspace!]!
}

type ApiTokenRateLimit {
  remainingPoints: Int!
  resetsAt: String!
}

type ApiTokenContext {
  workspaces: [ApiTokenWorkspace!]!
}

type ApiTokenWorkspace {
  id: String!
  name: String!
}

type ProjectToken {
  createdAt: DateTime!
  displayToken: String!
  environment: Environment!
  environmentId: String!
  id: ID!
  name: String!
  project: Project!
  projectId: String!
}

type PlatformStatus {
  incident: Incident
  isStable: Boolean!
  maintenance: Maintenance
}

type Incident {
  createdAt: DateTime
  id: String!
  message: String!
  status: IncidentStatus!
  url: String!
}

enum IncidentStatus {
  IDENTIFIED
  INVESTIGATING
  MONITORING
  RESOLVED
}

type Maintenance {
  id: String!
  message: String!
  start: DateTime!
  status: MaintenanceStatus!
  url: String!
}

enum MaintenanceStatus {
  COMPLETED
  INPROGRESS
  NOTSTARTEDYET
}

type Workspace {
  apiTokenRateLimit: ApiTokenRateLimit
  avatar: String
  createdAt: DateTime!
  customer: Customer!
  id: ID!
  name: String!
  plan: Plan!
  preferredRegion: String
  updatedAt: DateTime!
}

enum Plan {
  FREE
  HOBBY
  PRO
}

type Customer {
  appliedCredits: Float!
  billingEmail: String
  billingPeriod: BillingPeriod!
  creditBalance: Float!
  currentUsage: Float!
  hasExhaustedFreePlan: Boolean!
  id: ID!
  isPrepaying: Boolean!
  isTrialing: Boolean!
  isUsageSubscriber: Boolean!
  remainingUsageCreditBalance: Float!
  state: SubscriptionState!
  trialDaysRemaining: Int!
  usageLimit: UsageLimit
  workspace: Workspace!
}

enum SubscriptionState {
  ACTIVE
  CANCELLED
  INACTIVE
  PAST_DUE
  UNPAID
}

type BillingPeriod {
  end: DateTime!
  start: DateTime!
}

type UsageLimit {
  agentHardLimitCents: Int
  agentSoftLimitCents: Int
  customerId: String!
  hardLimit: Int
  id: ID!
  isOverLimit: Boolean!
  softLimit: Int!
}
)SDL";
    return kSdl;
}

}  // namespace railwatch::sim::graphql
