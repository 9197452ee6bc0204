import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { keepOnceCreated } from '../removal-policy';
import { WAF_LIMITS } from './thresholds';

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
   * which is then an edge node shared by many users. A second rate rule then counts, by connecting
   * address, the requests that lack the header (which the first skips), at WAF_LIMITS.withoutClientIpHeaderPer5Min.
   * @default - the connecting address, and no second rule
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
  rateLimitWithoutClientIp: 'RateLimitWithoutClientIpHeader',
  common: 'AWSManagedRulesCommonRuleSet',
  knownBadInputs: 'AWSManagedRulesKnownBadInputsRuleSet',
} as const;

/**
 * What the rate rule counts. With a header, FORWARDED_IP: WAF reads the header's first address, and
 * fallback MATCH counts (so blocks) a request whose header holds no valid address rather than letting it
 * past. But WAF does not apply the rule at all to a request *without* the header ("If the specified header
 * isn't present in the request, AWS WAF doesn't apply the rule to the web request at all": ForwardedIPConfig,
 * https://docs.aws.amazon.com/waf/latest/APIReference/API_ForwardedIPConfig.html), which only a client that
 * bypasses the edge sends; withoutHeaderRule counts those by their connecting address. Neither rule stops
 * such a client from writing a header of its own choosing, which the first rule then counts: the ALB's SG,
 * limited to the edge's ranges (edge.allowedCidrs), is what closes that path. The rate rules are the only
 * IP-keyed rules here: the two managed rule sets match request content, not addresses.
 */
function rateKey(header: string | undefined): Pick<wafv2.CfnWebACL.RateBasedStatementProperty, 'aggregateKeyType' | 'forwardedIpConfig'> {
  return header ? { aggregateKeyType: 'FORWARDED_IP', forwardedIpConfig: { headerName: header, fallbackBehavior: 'MATCH' } } : { aggregateKeyType: 'IP' };
}

/**
 * The fallback for requests the FORWARDED_IP rule skips: a rate limit per connecting address, scoped down
 * to requests whose `header` is absent or empty. The scope-down is the one the WAF guide gives for this
 * ("Rate limit the requests that are missing a specific header": NOT of a size constraint, header size > 0,
 * https://docs.aws.amazon.com/waf/latest/developerguide/waf-rate-based-example-limit-missing-header.html),
 * keyed on IP rather than counting all, so one direct caller cannot use up the limit of another.
 */
function withoutHeaderRule(header: string, priority: number, visibilityConfig: wafv2.CfnWebACL.VisibilityConfigProperty): wafv2.CfnWebACL.RuleProperty {
  return {
    name: WAF_RULE_NAMES.rateLimitWithoutClientIp,
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit: WAF_LIMITS.withoutClientIpHeaderPer5Min,
        evaluationWindowSec: 300,
        aggregateKeyType: 'IP',
        scopeDownStatement: {
          notStatement: {
            statement: {
              // WAF matches header names case-insensitively; lower case as the guide writes them.
              sizeConstraintStatement: { fieldToMatch: { singleHeader: { Name: header.toLowerCase() } }, comparisonOperator: 'GT', size: 0, textTransformations: [{ priority: 0, type: 'NONE' }] },
            },
          },
        },
      },
    },
    visibilityConfig,
  };
}

/**
 * AWS WAF in front of the ALB: a rate limit per client IP (behind an edge proxy, also one per connecting
 * address for requests without the client-IP header), then the AWS managed
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
        ...(props.clientIpHeader ? [withoutHeaderRule(props.clientIpHeader, 1, visibility(WAF_RULE_NAMES.rateLimitWithoutClientIp))] : []),
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
