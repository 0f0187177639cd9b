/**
 * The version of the cfn/ templates this release needs. Every template states it (Output
 * TemplateVersion), so a deployed stack can be compared with what the action expects; it goes up
 * whenever a template changes what a role may do.
 *
 * 1: release 0.1.0.
 * 2: the list-accounts role may ListRoots (the inventory always goes through it) and describe its
 *    own stack; grants nothing the action does not use (no DescribeAccount, SendRawEmail,
 *    kms:Encrypt or kms:DescribeKey); every template has the TemplateVersion output.
 * 3: two privilege levels: a read-only audit role and audit member role beside the write roles;
 *    the write role is trusted only by the rotation workflow in its environment; immutable
 *    subjects; key and tag writes only for users under UserPath and never for protected users;
 *    member roles never read a secret value; the management account is out of reach by default.
 * 4: the central stack's state signing key (alias/iam-key-rotation-state): only the write role
 *    signs the tool's records, every role verifies them.
 * 5: member roles check every managed secret (ListSecrets, GetResourcePolicy), may ask IAM whether
 *    a user can read its secret (SimulatePrincipalPolicy), and the write role repairs a secret's KMS
 *    key and replicas and restores a secret scheduled for deletion (UpdateSecret,
 *    RemoveRegionsFromReplication, RestoreSecret).
 * 6: replicas get their own region's key: member roles use the KMS key in any region (a
 *    multi-Region key's replicas) with kms:Encrypt for replication, check the replicas exist
 *    (kms:DescribeKey), and use the keys of replica-kms-key-ids (ReplicaKmsKeyArns); the secrets
 *    key may be multi-Region (MultiRegion) and its policy serves its replicas.
 */
export const TEMPLATE_VERSION = 6
