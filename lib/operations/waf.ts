import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { keepOnceCreated } from '../removal-policy';

export interface ChatWafProps {
  /** The web ACL is `<prefix>-alb`, its log group `aws-waf-logs-<prefix>`. */
  readonly prefix: string;
  /** The environment's name, in the web ACL's description. */
  readonly envName: string;
  /** Requests one client IP may make in 5 minutes before the rate rule blocks it. */
  readonly ratePerIpPer5Min: number;
  /**
   * The header holding the client's address when an edge proxy sits in front of the ALB
   * (`CF-Connecting-IP` behind Cloudflare): the rate rule counts it instead of the connecting address,
   * which is then an edge node shared by many users.
   * @default - the connecting address
   */
  readonly clientIpHeader?: string;
  /** How long the WAF log group keeps requests. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Whether the log group outlives the stack (RetainExceptOnCreate, see removal-policy.ts).
   * @default false - the log group is deleted with the stack
   */
  readonly retainLogs?: boolean;
  /**
   * The ARN of the ALB to protect: the platform's own ALB, or the one the config imports
   * (an imported ALB must not already have a web ACL: a resource can carry only one).
   */
  readonly loadBalancerArn: string;
}

/** Rule names double as CloudWatch metric names (namespace AWS/WAFV2, dimension Rule). */
export const WAF_RULE_NAMES = {
  rateLimit: 'RateLimitPerIp',
  common: 'AWSManagedRulesCommonRuleSet',
  knownBadInputs: 'AWSManagedRulesKnownBadInputsRuleSet',
} as const;

/**
 * What the rate rule counts. With a header, FORWARDED_IP: WAF reads the header's first address, and
 * fallback MATCH counts (so blocks) a request whose header holds no valid address rather than letting it
 * past. WAF skips the rule for a request *without* the header (ForwardedIPConfiguration, CloudFormation
 * reference), which only a client that bypasses the edge can send: the ALB's SG, limited to the edge's
 * ranges (edge.allowedCidrs), is what closes that path. The rate rule is the only IP-keyed rule here: the
 * two managed rule sets match request content, not addresses.
 */
function rateKey(header: string | undefined): Pick<wafv2.CfnWebACL.RateBasedStatementProperty, 'aggregateKeyType' | 'forwardedIpConfig'> {
  return header ? { aggregateKeyType: 'FORWARDED_IP', forwardedIpConfig: { headerName: header, fallbackBehavior: 'MATCH' } } : { aggregateKeyType: 'IP' };
}

/**
 * AWS WAF in front of the ALB: a rate limit per client IP, then the AWS managed
 * common and known-bad-inputs rule sets. Requests are logged to CloudWatch Logs
 * with credentials redacted, and every rule publishes metrics.
 */
export class ChatWaf extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly logGroup: logs.ILogGroup;
  /** The web ACL's name: the WebACL dimension of its AWS/WAFV2 metrics. */
  public readonly webAclName: string;

  constructor(scope: Construct, id: string, props: ChatWafProps) {
    super(scope, id);
    const { prefix } = props;
    this.webAclName = `${prefix}-alb`;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const managedRuleGroup = (name: string, priority: number, ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[]): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides } },
      visibilityConfig: visibility(name),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: this.webAclName,
      description: `Phenom chat ${props.envName}: rate limit per IP and AWS managed rule sets`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclName),
      rules: [
        {
          // First, so a flood is cut off before the managed rules spend WCUs on it.
          name: WAF_RULE_NAMES.rateLimit,
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.ratePerIpPer5Min, evaluationWindowSec: 300, ...rateKey(props.clientIpHeader) } },
          visibilityConfig: visibility(WAF_RULE_NAMES.rateLimit),
        },
        managedRuleGroup(WAF_RULE_NAMES.common, 10, [
          // The common set blocks request bodies over 8 KB; Synapse media uploads
          // (/_matrix/media/v3/upload) and large GraphQL documents are legitimately bigger.
          // Counting keeps the signal in the metrics without breaking uploads.
          { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
        ]),
        managedRuleGroup(WAF_RULE_NAMES.knownBadInputs, 20),
      ],
    });

    // WAF only delivers to log groups whose name starts with aws-waf-logs-.
    const logGroupName = `aws-waf-logs-${prefix}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName,
      retention: props.logRetention,
      removalPolicy: keepOnceCreated({ production: props.retainLogs ?? false }),
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      // The logging configuration wants the bare log-group ARN, without the ':*' CDK's logGroupArn carries.
      logDestinationConfigs: [Stack.of(this).formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      // Bearer tokens (Cognito, Synapse admin) and session cookies must never land in logs.
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
    logging.node.addDependency(this.logGroup);

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.loadBalancerArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
