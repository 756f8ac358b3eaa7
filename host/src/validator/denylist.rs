//! The reads the validator denies although IAM calls them List or Read,
//! grouped by the rule that names them in verdicts and audit records.
//!
//! [`SENSITIVE`] holds what no standard allows: secret values, credentials
//! and tokens, URLs that are themselves a credential for content, and
//! customer data (object bodies, table items, messages, log events, query
//! results, media). A few entries that IAM already classifies as Write
//! (`kms:Decrypt`, `sts:AssumeRole`) are listed too, so that their denial
//! names the real reason.
//!
//! The other groups are added by the stricter standards (see
//! [`Standard`](super::Standard)): configuration content, key material,
//! personal data and health data.
//!
//! An entry may carry a [`Condition`] on the call's input: it then denies
//! only the calls whose input asks for the sensitive part (EC2 user data,
//! a Glue connection's password, API Gateway key values).

/// When an entry applies, judged on the call's JSON input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The member equals this string.
    Equals(&'static str, &'static str),
    /// The member is `true`.
    IsTrue(&'static str),
    /// The member is absent or not `true`.
    NotTrue(&'static str),
}

impl Condition {
    /// Whether the condition holds for `input`.
    pub fn holds(self, input: &serde_json::Value) -> bool {
        match self {
            Condition::Equals(member, value) => input[member].as_str() == Some(value),
            Condition::IsTrue(member) => input[member].as_bool() == Some(true),
            Condition::NotTrue(member) => input[member].as_bool() != Some(true),
        }
    }

    /// The condition in words, for `inventag validate`.
    pub fn describe(self) -> String {
        match self {
            Condition::Equals(member, value) => format!("denied when {member} is {value:?}"),
            Condition::IsTrue(member) => format!("denied when {member} is true"),
            Condition::NotTrue(member) => format!("denied unless {member} is true"),
        }
    }
}

/// One denied operation.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// `service:Operation`, with the catalogue's service name.
    pub operation: &'static str,
    /// What it would return, in a few words.
    pub why: &'static str,
    /// When only some inputs are denied.
    pub when: Option<Condition>,
}

/// A group of entries and the rule that names them.
#[derive(Debug)]
pub struct Group {
    /// The rule name in verdicts and audit records.
    pub rule: &'static str,
    /// What the group is, for documentation and `inventag validate`.
    pub summary: &'static str,
    /// The entries.
    pub entries: &'static [Entry],
}

impl Group {
    /// The entry for `service:operation`, if any.
    pub fn find(&self, key: &str) -> Option<&'static Entry> {
        self.entries.iter().find(|e| e.operation == key)
    }
}

const fn e(operation: &'static str, why: &'static str) -> Entry {
    Entry { operation, why, when: None }
}

const fn when(operation: &'static str, why: &'static str, condition: Condition) -> Entry {
    Entry { operation, why, when: Some(condition) }
}

const SECRET: &str = "returns secret values";
const CREDENTIALS: &str = "returns credentials or an access token";
const URL: &str = "returns a presigned URL, itself a credential for the content behind it";
const LOGS: &str = "returns log events, which carry customer data";
const CRYPTO: &str = "uses a key on data (decrypts, encrypts or makes key material)";
const CODE: &str = "returns source code or build artifacts";

/// Denied under every standard (rule `sensitive-read`).
pub static SENSITIVE: Group = Group {
    rule: "sensitive-read",
    summary: "reads that return secrets, credentials or customer data",
    entries: &[
        // Secret values.
        e("secretsmanager:GetSecretValue", SECRET),
        e("secretsmanager:BatchGetSecretValue", SECRET),
        e("secretsmanager:GetRandomPassword", "generates a password"),
        e("ssm:GetParameter", "returns parameter values, decrypted on request"),
        e("ssm:GetParameters", "returns parameter values, decrypted on request"),
        e("ssm:GetParametersByPath", "returns parameter values, decrypted on request"),
        e("ssm:GetParameterHistory", "returns past parameter values"),
        e("ec2:GetPasswordData", "returns an instance's encrypted administrator password"),
        e("lightsail:GetRelationalDatabaseMasterUserPassword", SECRET),
        e("lightsail:GetInstanceAccessDetails", "returns SSH keys or a password"),
        e("lightsail:DownloadDefaultKeyPair", "returns a private key"),
        e("acm:ExportCertificate", "returns a certificate's private key"),
        e("wafv2:GetDecryptedAPIKey", SECRET),
        e("pca-connector-scep:GetChallengePassword", SECRET),
        e("storagegateway:DescribeChapCredentials", "returns CHAP secrets"),
        e("cognito-idp:ListUserPoolClientSecrets", "returns app client secrets"),
        when(
            "glue:GetConnection",
            "returns connection passwords",
            Condition::NotTrue("HidePassword"),
        ),
        when(
            "glue:GetConnections",
            "returns connection passwords",
            Condition::NotTrue("HidePassword"),
        ),
        when(
            "apigateway:GetApiKey",
            "returns the API key's value",
            Condition::IsTrue("includeValue"),
        ),
        when("apigateway:GetApiKeys", "returns API key values", Condition::IsTrue("includeValues")),
        when(
            "ec2:DescribeInstanceAttribute",
            "returns user data, which often holds bootstrap secrets",
            Condition::Equals("Attribute", "userData"),
        ),
        e("ec2:GetLaunchTemplateData", "returns an instance's launch data, user data included"),
        // Credentials and tokens.
        e("sts:AssumeRole", CREDENTIALS),
        e("sts:AssumeRoleWithSAML", CREDENTIALS),
        e("sts:AssumeRoleWithWebIdentity", CREDENTIALS),
        e("sts:AssumeRoot", CREDENTIALS),
        e("sts:GetSessionToken", CREDENTIALS),
        e("sts:GetFederationToken", CREDENTIALS),
        e("sts:GetDelegatedAccessToken", CREDENTIALS),
        e("sts:GetWebIdentityToken", CREDENTIALS),
        e("ecr:GetAuthorizationToken", CREDENTIALS),
        e("ecr-public:GetAuthorizationToken", CREDENTIALS),
        e("codeartifact:GetAuthorizationToken", CREDENTIALS),
        e("redshift:GetClusterCredentials", CREDENTIALS),
        e("redshift:GetClusterCredentialsWithIAM", CREDENTIALS),
        e("redshift:GetIdentityCenterAuthToken", CREDENTIALS),
        e("redshift-serverless:GetCredentials", CREDENTIALS),
        e("redshift-serverless:GetIdentityCenterAuthToken", CREDENTIALS),
        e("cognito-identity:GetCredentialsForIdentity", CREDENTIALS),
        e("cognito-identity:GetOpenIdToken", CREDENTIALS),
        e("cognito-identity:GetOpenIdTokenForDeveloperIdentity", CREDENTIALS),
        e("sso:GetRoleCredentials", CREDENTIALS),
        e("sso-oidc:CreateToken", CREDENTIALS),
        e("connect:GetFederationToken", CREDENTIALS),
        e("datazone:GetEnvironmentCredentials", CREDENTIALS),
        e("lakeformation:GetTemporaryGluePartitionCredentials", CREDENTIALS),
        e("lakeformation:GetTemporaryGlueTableCredentials", CREDENTIALS),
        e("lakeformation:GetTemporaryDataLocationCredentials", CREDENTIALS),
        e("s3control:GetDataAccess", CREDENTIALS),
        e("license-manager:GetAccessToken", CREDENTIALS),
        e("ssm:GetAccessToken", CREDENTIALS),
        e("amplifybackend:GetToken", CREDENTIALS),
        e("gamelift:GetComputeAuthToken", CREDENTIALS),
        e("gamelift:RequestUploadCredentials", CREDENTIALS),
        e("eks-auth:AssumeRoleForPodIdentity", CREDENTIALS),
        e("bedrock-agentcore:GetResourceOauth2Token", CREDENTIALS),
        e("bedrock-agentcore:GetResourcePaymentToken", CREDENTIALS),
        e("bedrock-agentcore:GetWorkloadAccessToken", CREDENTIALS),
        e("bedrock-agentcore:GetWorkloadAccessTokenForJWT", CREDENTIALS),
        e("bedrock-agentcore:GetWorkloadAccessTokenForUserId", CREDENTIALS),
        e("iam:GetCredentialReport", "returns every user's password and access key status"),
        e("iam:GenerateCredentialReport", "starts the credential report"),
        // Keys used on data.
        e("kms:Decrypt", CRYPTO),
        e("kms:ReEncrypt", CRYPTO),
        e("kms:GenerateDataKey", CRYPTO),
        e("kms:GenerateDataKeyWithoutPlaintext", CRYPTO),
        e("kms:GenerateDataKeyPair", CRYPTO),
        e("kms:GenerateDataKeyPairWithoutPlaintext", CRYPTO),
        e("kms:DeriveSharedSecret", CRYPTO),
        e("kms:GenerateRandom", CRYPTO),
        // Presigned URLs and code.
        e("lambda:GetFunction", "returns a presigned URL to the function's code"),
        e("lambda:GetLayerVersion", "returns a presigned URL to the layer's code"),
        e("lambda:GetLayerVersionByArn", "returns a presigned URL to the layer's code"),
        e("ecr:GetDownloadUrlForLayer", URL),
        e("ecr:BatchGetImage", "returns image manifests, the way to an image's layers"),
        e("amplify:GetArtifactUrl", URL),
        e("auditmanager:GetAssessmentReportUrl", URL),
        e("auditmanager:GetEvidenceFileUploadUrl", URL),
        e("gamelift:GetGameSessionLogUrl", URL),
        e("groundstation:GetAgentTaskResponseUrl", URL),
        e("kinesis-video-archived-media:GetDASHStreamingSessionURL", URL),
        e("kinesis-video-archived-media:GetHLSStreamingSessionURL", URL),
        e("lexv2-models:GetTestExecutionArtifactsUrl", URL),
        e("m2:GetSignedBluinsightsUrl", URL),
        e("mturk:GetFileUploadURL", URL),
        e("quicksight:GetDashboardEmbedUrl", URL),
        e("quicksight:GetSessionEmbedUrl", URL),
        e("security-ir:GetCaseAttachmentDownloadUrl", URL),
        e("transcribe:GetTranscriptionJob", URL),
        e("transcribe:GetMedicalTranscriptionJob", URL),
        e("transcribe:GetCallAnalyticsJob", URL),
        e("transcribe:GetMedicalScribeJob", URL),
        e("codecommit:GetFile", CODE),
        e("codecommit:GetBlob", CODE),
        e("codecommit:GetFolder", CODE),
        // Customer data.
        e("s3:GetObject", "returns object bodies"),
        e("s3:GetObjectTorrent", "returns object bodies"),
        e("s3:SelectObjectContent", "returns object contents"),
        e("mediastore-data:GetObject", "returns object bodies"),
        e("dynamodb:GetItem", "returns table items"),
        e("dynamodb:BatchGetItem", "returns table items"),
        e("dynamodb:Query", "returns table items"),
        e("dynamodb:Scan", "returns table items"),
        e("dynamodb:ExecuteStatement", "runs PartiQL on table items"),
        e("dynamodb:BatchExecuteStatement", "runs PartiQL on table items"),
        e("dynamodb:ExecuteTransaction", "runs PartiQL on table items"),
        e("dynamodb:TransactGetItems", "returns table items"),
        e("dynamodbstreams:GetRecords", "returns table changes"),
        e("keyspacesstreams:GetRecords", "returns table changes"),
        // Messages, mail, records, documents and query results.
        e("workmailmessageflow:GetRawMessageContent", "returns a raw email message"),
        e("qbusiness:ListMessages", "returns conversation messages"),
        e("qconnect:GetNextMessage", "returns conversation messages"),
        e("qconnect:ListMessages", "returns conversation messages"),
        e("sagemaker-featurestore-runtime:GetRecord", "returns feature store records"),
        e("sagemaker-featurestore-runtime:BatchGetRecord", "returns feature store records"),
        e("glue:GetEntityRecords", "returns records of a connected data source"),
        e("lakeformation:GetWorkUnitResults", "returns query results"),
        e("cognito-sync:ListRecords", "returns user dataset records"),
        e("cloudtrail:GetQueryResults", "returns event query results"),
        e("iotsitewise:GetQueryResults", "returns query results"),
        e("qbusiness:GetDocumentContent", "returns document content"),
        e("bedrock-agent-runtime:GetDocumentContent", "returns document content"),
        e("athena:GetCalculationExecutionCode", CODE),
        e("greengrassv2:GetComponentVersionArtifact", URL),
        e("connect:GetAttachedFile", URL),
        e("connect:GetPromptFile", URL),
        e("acm:GetAcmeExternalAccountBindingCredentials", CREDENTIALS),
        e("bedrock-agentcore:GetResourceApiKey", CREDENTIALS),
        e("route53globalresolver:GetAccessToken", CREDENTIALS),
        e("snowball:GetJobUnlockCode", CREDENTIALS),
        e("logs:GetLogEvents", LOGS),
        e("logs:FilterLogEvents", LOGS),
        e("logs:StartQuery", LOGS),
        e("logs:GetQueryResults", LOGS),
        e("logs:StartLiveTail", LOGS),
        e("logs:GetLogRecord", LOGS),
        e("logs:GetLogObject", LOGS),
        e("rds:DownloadDBLogFilePortion", LOGS),
        e("lightsail:GetRelationalDatabaseLogEvents", LOGS),
        e("lightsail:GetContainerLog", LOGS),
        e("ec2:GetConsoleOutput", "returns an instance's console output"),
        e("ec2:GetConsoleScreenshot", "returns a screenshot of an instance's console"),
        e("ssm:GetCommandInvocation", "returns a command's output"),
        e("kinesis:GetRecords", "returns stream records"),
        e("kinesis:SubscribeToShard", "returns stream records"),
        e("kinesis-video-media:GetMedia", "returns video"),
        e("kinesis-video-archived-media:GetMediaForFragmentList", "returns video"),
        e("kinesis-video-archived-media:GetClip", "returns video"),
        e("kinesis-video-archived-media:GetImages", "returns video frames"),
        e("sqs:ReceiveMessage", "returns queue messages and hides them from consumers"),
        e("athena:GetQueryResults", "returns query results"),
        e("redshift-data:GetStatementResult", "returns query results"),
        e("redshift-data:GetStatementResultV2", "returns query results"),
        e("timestream-query:Query", "returns query results"),
        e("cloudsearchdomain:Search", "returns indexed documents"),
        e("cloudsearchdomain:Suggest", "returns indexed documents"),
        e("appconfigdata:GetLatestConfiguration", "returns application configuration"),
        e("appconfig:GetHostedConfigurationVersion", "returns application configuration"),
        e("appconfig:GetConfiguration", "returns application configuration"),
        e("iot-data:GetThingShadow", "returns device state"),
        e("iot-data:GetRetainedMessage", "returns device messages"),
        e("macie2:GetSensitiveDataOccurrences", "returns samples of sensitive data"),
        e("mailmanager:GetArchiveMessage", "returns archived email"),
        e("mailmanager:GetArchiveMessageContent", "returns archived email"),
        e("mailmanager:GetArchiveSearchResults", "returns archived email"),
        e("chime-sdk-messaging:GetChannelMessage", "returns chat messages"),
        e("chime-sdk-messaging:ListChannelMessages", "returns chat messages"),
        e("lex-runtime:GetSession", "returns a conversation's state"),
        e("lexv2-runtime:GetSession", "returns a conversation's state"),
        e("lexv2-models:SearchAssociatedTranscripts", "returns conversation transcripts"),
        e("bedrock-agent-runtime:GetSession", "returns a conversation's state"),
        e("bedrock-agentcore:GetEvent", "returns agent memory"),
        e("bedrock-agentcore:ListEvents", "returns agent memory"),
        e("bedrock-agentcore:GetMemoryRecord", "returns agent memory"),
        e("bedrock-agentcore:ListMemoryRecords", "returns agent memory"),
        e("stepfunctions:DescribeExecution", "returns an execution's input and output"),
        e("stepfunctions:GetExecutionHistory", "returns an execution's input and output"),
        e("textract:GetDocumentAnalysis", "returns text read from documents"),
        e("textract:GetDocumentTextDetection", "returns text read from documents"),
        e("textract:GetExpenseAnalysis", "returns text read from documents"),
        e("textract:GetLendingAnalysis", "returns text read from documents"),
        e("textract:GetLendingAnalysisSummary", "returns text read from documents"),
        e("rekognition:GetFaceDetection", "returns biometric data"),
        e("rekognition:GetFaceSearch", "returns biometric data"),
        e("rekognition:GetFaceLivenessSessionResults", "returns biometric data"),
        e("rekognition:ListFaces", "returns biometric data"),
        e("medical-imaging:GetImageFrame", "returns medical images"),
        e("medical-imaging:GetImageSetMetadata", "returns patient metadata"),
        e("location:GetDevicePosition", "returns device locations"),
        e("location:GetDevicePositionHistory", "returns device locations"),
        e("location:BatchGetDevicePosition", "returns device locations"),
        e("location:ListDevicePositions", "returns device locations"),
    ],
};

const TEMPLATE: &str = "returns configuration content, which may embed secrets";

/// Added by `soc2` and `pci` (rule `confidential-content`).
pub static CONFIDENTIAL_CONTENT: Group = Group {
    rule: "confidential-content",
    summary: "copies of configuration content (templates, definitions, user data, exports) \
              rather than descriptions of resources",
    entries: &[
        e("cloudformation:GetTemplate", TEMPLATE),
        e("cloudformation:GetTemplateSummary", TEMPLATE),
        e("ec2:DescribeLaunchTemplateVersions", "returns launch templates with their user data"),
        e("ec2:DescribeInstanceAttribute", "returns instance attributes, user data among them"),
        e("stepfunctions:DescribeStateMachine", "returns a state machine's definition"),
        e("stepfunctions:DescribeStateMachineForExecution", "returns a state machine's definition"),
        e("ssm:GetDocument", "returns a document's content"),
        e("apigateway:GetExport", "returns an API's full definition"),
        e("apigateway:GetSdk", "returns generated client code"),
        e("apigatewayv2:ExportApi", "returns an API's full definition"),
        e("glue:GetConnection", "returns connection properties"),
        e("glue:GetConnections", "returns connection properties"),
    ],
};

const KEY: &str = "returns key or certificate material";

/// Added by `pci` (rule `key-material`).
pub static KEY_MATERIAL: Group = Group {
    rule: "key-material",
    summary: "public keys, certificates, certificate requests and key import or export \
              parameters",
    entries: &[
        e("kms:GetPublicKey", KEY),
        e("kms:GetParametersForImport", "returns a key import token and wrapping key"),
        e("payment-cryptography:GetPublicKeyCertificate", KEY),
        e("payment-cryptography:GetParametersForImport", "returns a key import token"),
        e("payment-cryptography:GetParametersForExport", "returns a key export token"),
        e("payment-cryptography:GetCertificateSigningRequest", KEY),
        e("acm:GetCertificate", KEY),
        e("acm-pca:GetCertificate", KEY),
        e("acm-pca:GetCertificateAuthorityCertificate", KEY),
        e("acm-pca:GetCertificateAuthorityCsr", KEY),
        e("iam:GetServerCertificate", KEY),
        e("iam:GetSSHPublicKey", KEY),
        e("iam:ListSigningCertificates", KEY),
        e("cloudfront:GetPublicKey", KEY),
        when("ec2:DescribeKeyPairs", KEY, Condition::IsTrue("IncludePublicKey")),
    ],
};

const PEOPLE: &str = "returns personal data about people";

/// Added by `hipaa` and `gdpr` (rule `personal-data`).
pub static PERSONAL_DATA: Group = Group {
    rule: "personal-data",
    summary: "records about people: user directories, contacts, subscribers, audit events \
              naming them, and object key listings that may name them",
    entries: &[
        e("cognito-idp:ListUsers", PEOPLE),
        e("cognito-idp:ListUsersInGroup", PEOPLE),
        e("cognito-idp:AdminGetUser", PEOPLE),
        e("cognito-idp:AdminListDevices", PEOPLE),
        e("cognito-idp:AdminGetDevice", PEOPLE),
        e("cognito-idp:AdminListGroupsForUser", PEOPLE),
        e("cognito-idp:AdminListUserAuthEvents", PEOPLE),
        e("iam:GetAccountAuthorizationDetails", "returns every user, group and role at once"),
        e("identitystore:ListUsers", PEOPLE),
        e("identitystore:DescribeUser", PEOPLE),
        e("identitystore:GetUserId", PEOPLE),
        e("identitystore:ListGroupMemberships", PEOPLE),
        e("identitystore:ListGroupMembershipsForMember", PEOPLE),
        e("workmail:ListUsers", PEOPLE),
        e("workmail:DescribeUser", PEOPLE),
        e("connect:DescribeUser", PEOPLE),
        e("connect:SearchUsers", PEOPLE),
        e("connect:GetContactAttributes", PEOPLE),
        e("connect:SearchContacts", PEOPLE),
        e("connect:DescribeContact", PEOPLE),
        e("customer-profiles:SearchProfiles", PEOPLE),
        e("customer-profiles:ListProfileObjects", PEOPLE),
        e("pinpoint:GetEndpoint", PEOPLE),
        e("pinpoint:GetUserEndpoints", PEOPLE),
        e("sesv2:ListContacts", "returns email addresses"),
        e("sesv2:GetContact", "returns email addresses"),
        e("sesv2:ListSuppressedDestinations", "returns email addresses"),
        e("sesv2:GetSuppressedDestination", "returns email addresses"),
        e("sns:ListSubscriptions", "returns subscriber endpoints: email addresses, phone numbers"),
        e("sns:ListSubscriptionsByTopic", "returns subscriber endpoints"),
        e("sns:ListPhoneNumbersOptedOut", "returns phone numbers"),
        e("sns:ListSMSSandboxPhoneNumbers", "returns phone numbers"),
        e("sns:ListEndpointsByPlatformApplication", "returns device tokens and user data"),
        e("sns:GetEndpointAttributes", "returns device tokens and user data"),
        e("cloudtrail:LookupEvents", "returns events naming users and their addresses"),
        e("cloudtrail:GetQueryResults", "returns events naming users and their addresses"),
        e("rekognition:ListUsers", PEOPLE),
        e("s3:ListObjects", "returns object keys, which may name people"),
        e("s3:ListObjectsV2", "returns object keys, which may name people"),
        e("s3:ListObjectVersions", "returns object keys, which may name people"),
        e("s3:ListMultipartUploads", "returns object keys, which may name people"),
        e("s3:ListParts", "returns object keys, which may name people"),
    ],
};

/// Added by `hipaa` (rule `health-data`).
pub static HEALTH_DATA: Group = Group {
    rule: "health-data",
    summary: "searches and listings of health-care services, which name patients and studies",
    entries: &[
        e("medical-imaging:SearchImageSets", "returns patient and study metadata"),
        e("medical-imaging:GetImageSet", "returns patient and study metadata"),
        e("transcribe:ListMedicalTranscriptionJobs", "returns job names that often name patients"),
        e("transcribe:ListMedicalScribeJobs", "returns job names that often name patients"),
        e("comprehendmedical:ListEntitiesDetectionV2Jobs", "lists analyses of clinical text"),
    ],
};
